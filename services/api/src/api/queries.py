"""Every SQL read of the read model's views (`shared.read_model`, `docs/read-model.md`).

Rows come back typed, as the read model's row types. Columns are named explicitly (every
column of the row type, in order): the projector only ever adds columns, so named reads keep
working. A read before the projector has created its views raises
`ReadModelUnavailableError` (503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from shared.postgres import ident
from shared.read_model.rows import AssetRow, AttemptRow, LectureRow, SegmentRow
from shared.read_model.tables import (
    ASSETS,
    ATTEMPTS,
    CURRENT_GENERATION_VIEW,
    FEED,
    LECTURES,
    READ_SCHEMA,
    REJECTED,
    SEGMENTS,
    Table,
)
from shared.status import AssetStatus, read_status

T = TypeVar("T")
R = TypeVar("R", bound=tuple[Any, ...])


class ReadModelUnavailableError(Exception):
    """The projector's views are not there (yet): the projector has never started."""


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One asset event of a lecture's live feed, ready to be sent as an SSE message."""

    seq: int
    event_type: str
    data: str


class ReadModel:
    """Read access to the projector's views over one connection pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lecture(self, lecture_id: str) -> LectureRow | None:
        return await self._fetchrow(LECTURES, "WHERE lecture_id = $1", lecture_id)

    async def segments(self, lecture_id: str) -> list[SegmentRow]:
        return await self._fetch(SEGMENTS, "WHERE lecture_id = $1 ORDER BY position", lecture_id)

    async def assets(self, lecture_id: str, status: AssetStatus | None = None) -> list[AssetRow]:
        # A NULL status reads as `generated` (DESIGN §2), so filter on the value as read.
        return await self._fetch(
            ASSETS,
            "WHERE lecture_id = $1 "
            "AND ($2::text IS NULL OR coalesce(status, 'generated') = $2) ORDER BY position",
            lecture_id,
            None if status is None else status.value,
        )

    async def asset(self, asset_id: str) -> AssetRow | None:
        return await self._fetchrow(ASSETS, "WHERE asset_id = $1", asset_id)

    async def attempts(self, asset_id: str) -> list[AttemptRow]:
        return await self._fetch(
            ATTEMPTS, "WHERE asset_id = $1 ORDER BY prompt_version, attempt", asset_id
        )

    async def counts(self, lecture_id: str) -> dict[AssetStatus, int]:
        rows = await self._fetch_records(
            f"SELECT status, count(*) AS n FROM {ASSETS.qualified()} WHERE lecture_id = $1 "
            f"GROUP BY status",
            lecture_id,
        )
        counts = dict.fromkeys(AssetStatus, 0)
        for row in rows:
            counts[read_status(row["status"])] += row["n"]
        return counts

    async def waiting_by_model(self) -> dict[str, int]:
        """How many assets wait for their provider (`waiting_for` set), per model."""
        rows = await self._fetch_records(
            f"SELECT model, count(*) AS n FROM {ASSETS.qualified()} "
            f"WHERE waiting_for IS NOT NULL GROUP BY model"
        )
        return {row["model"]: int(row["n"]) for row in rows}

    async def recent_lectures(
        self, limit: int, before: tuple[datetime, str] | None
    ) -> list[LectureRow]:
        """Up to `limit` lectures, newest first, strictly older than the `before` cursor."""
        return await self._fetch(
            LECTURES,
            "WHERE $2::timestamptz IS NULL OR (created_at, lecture_id) < ($2, $3) "
            "ORDER BY created_at DESC, lecture_id DESC LIMIT $1",
            limit,
            None if before is None else before[0],
            None if before is None else before[1],
        )

    async def counts_of(self, lecture_ids: list[str]) -> dict[str, dict[AssetStatus, int]]:
        """The assets per status of each of these lectures."""
        rows = await self._fetch_records(
            f"SELECT lecture_id, status, count(*) AS n FROM {ASSETS.qualified()} "
            f"WHERE lecture_id = ANY($1::text[]) GROUP BY lecture_id, status",
            lecture_ids,
        )
        counts = {lecture_id: dict.fromkeys(AssetStatus, 0) for lecture_id in lecture_ids}
        for row in rows:
            counts[row["lecture_id"]][read_status(row["status"])] += row["n"]
        return counts

    async def feed_after(self, lecture_id: str, after_seq: int, limit: int) -> list[FeedMessage]:
        rows = await self._fetch_records(
            f"SELECT seq, event_type, data::text AS data FROM {FEED.qualified()} "
            f"WHERE lecture_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            lecture_id,
            after_seq,
            limit,
        )
        return [FeedMessage(row["seq"], row["event_type"], row["data"]) for row in rows]

    async def is_projected(self, event_id: str) -> bool:
        """Whether the projector has handled event `event_id` (applied, fed or rejected)."""
        found = await self._fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {FEED.qualified()} WHERE event_id = $1) "
            f"OR EXISTS (SELECT 1 FROM {LECTURES.qualified()} WHERE created_event_id = $1) "
            f"OR EXISTS (SELECT 1 FROM {REJECTED.qualified()} WHERE event_id = $1)",
            event_id,
        )
        return bool(found)

    async def ping(self) -> None:
        """A real round trip to PostgreSQL (readiness)."""
        await self._pool.fetchval("SELECT 1")

    async def generation(self) -> int:
        """The projection generation readers see: proves the views are there."""
        value = await self._fetchval(
            f"SELECT generation FROM {ident(READ_SCHEMA)}.{ident(CURRENT_GENERATION_VIEW)}"
        )
        return int(value)

    async def _fetch(self, table: Table[R], where: str, *args: Any) -> list[R]:
        """Every column of `table`'s view, as its rows, for the rows `where` selects."""
        records = await self._fetch_records(_select(table, where), *args)
        return [table.row(record) for record in records]

    async def _fetchrow(self, table: Table[R], where: str, *args: Any) -> R | None:
        query = _select(table, where)
        record = await _guard(lambda: self._pool.fetchrow(query, *args))
        return None if record is None else table.row(record)

    async def _fetch_records(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await _guard(lambda: self._pool.fetch(query, *args))

    async def _fetchval(self, query: str, *args: Any) -> Any:
        return await _guard(lambda: self._pool.fetchval(query, *args))


def _select(table: Table[Any], where: str) -> str:
    return f"SELECT {table.select_list()} FROM {table.qualified()} {where}"


async def _guard(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        raise ReadModelUnavailableError(str(exc)) from exc
