"""Every SQL read of the projector's views (`lecturegen_read.*`, see the projector's SCHEMA.md).

Columns are named explicitly: the projector only ever adds columns, so named reads keep working.
A read before the projector has created its views raises `ReadModelUnavailableError` (503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from shared.status import AssetStatus, read_status

T = TypeVar("T")
Row = dict[str, Any]
"""One row of a view, by column name."""

READ = "lecturegen_read"

_ASSET_COLUMNS = """
    asset_id, lecture_id, segment_id, kind, position, status, error, prompt, model, params,
    prompt_version, requested_duration_s, media_blob_key, media_content_type, media_size_bytes,
    duration_s, retried_count, attempts, provider, prediction_id, created_at, updated_at,
    last_event_id
"""


class ReadModelUnavailableError(Exception):
    """The projector's views are not there (yet): the projector has never started."""


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One asset event of a lecture's live feed, ready to be sent as an SSE message."""

    seq: int
    event_type: str
    data: str


class ReadModel:
    """Read access to the projector's views over one connection pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lecture(self, lecture_id: str) -> Row | None:
        return await self._fetchrow(
            f"SELECT lecture_id, title, duration_s, created_event_id, created_at, updated_at "
            f"FROM {READ}.lectures WHERE lecture_id = $1",
            lecture_id,
        )

    async def segments(self, lecture_id: str) -> list[Row]:
        return await self._fetch(
            f"SELECT segment_id, position, title, start_s, duration_s "
            f"FROM {READ}.segments WHERE lecture_id = $1 ORDER BY position",
            lecture_id,
        )

    async def assets(self, lecture_id: str, status: AssetStatus | None = None) -> list[Row]:
        # A NULL status reads as `generated` (DESIGN §2), so filter on the value as read.
        return await self._fetch(
            f"SELECT {_ASSET_COLUMNS} FROM {READ}.assets WHERE lecture_id = $1 "
            f"AND ($2::text IS NULL OR coalesce(status, 'generated') = $2) ORDER BY position",
            lecture_id,
            None if status is None else status.value,
        )

    async def asset(self, asset_id: str) -> Row | None:
        return await self._fetchrow(
            f"SELECT {_ASSET_COLUMNS} FROM {READ}.assets WHERE asset_id = $1", asset_id
        )

    async def attempts(self, asset_id: str) -> list[Row]:
        return await self._fetch(
            f"SELECT prompt_version, attempt, started_at, finished_at, outcome, error, "
            f"prediction_id, superseded FROM {READ}.asset_attempts WHERE asset_id = $1 "
            f"ORDER BY prompt_version, attempt",
            asset_id,
        )

    async def counts(self, lecture_id: str) -> dict[AssetStatus, int]:
        rows = await self._fetch(
            f"SELECT status, count(*) AS n FROM {READ}.assets WHERE lecture_id = $1 "
            f"GROUP BY status",
            lecture_id,
        )
        counts = dict.fromkeys(AssetStatus, 0)
        for row in rows:
            counts[read_status(row["status"])] += row["n"]
        return counts

    async def recent_lectures(self, limit: int, before: tuple[datetime, str] | None) -> list[Row]:
        """Up to `limit` lectures, newest first, strictly older than the `before` cursor."""
        return await self._fetch(
            f"SELECT lecture_id, title, duration_s, created_at FROM {READ}.lectures "
            f"WHERE $2::timestamptz IS NULL OR (created_at, lecture_id) < ($2, $3) "
            f"ORDER BY created_at DESC, lecture_id DESC LIMIT $1",
            limit,
            None if before is None else before[0],
            None if before is None else before[1],
        )

    async def counts_of(self, lecture_ids: list[str]) -> dict[str, dict[AssetStatus, int]]:
        """The assets per status of each of these lectures."""
        rows = await self._fetch(
            f"SELECT lecture_id, status, count(*) AS n FROM {READ}.assets "
            f"WHERE lecture_id = ANY($1::text[]) GROUP BY lecture_id, status",
            lecture_ids,
        )
        counts = {lecture_id: dict.fromkeys(AssetStatus, 0) for lecture_id in lecture_ids}
        for row in rows:
            counts[row["lecture_id"]][read_status(row["status"])] += row["n"]
        return counts

    async def feed_after(self, lecture_id: str, after_seq: int, limit: int) -> list[FeedRow]:
        rows = await self._fetch(
            f"SELECT seq, event_type, data::text AS data FROM {READ}.lecture_event_feed "
            f"WHERE lecture_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            lecture_id,
            after_seq,
            limit,
        )
        return [FeedRow(row["seq"], row["event_type"], row["data"]) for row in rows]

    async def is_projected(self, event_id: str) -> bool:
        """Whether the projector has handled event `event_id` (applied, fed or rejected)."""
        found = await self._fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {READ}.lecture_event_feed WHERE event_id = $1) "
            f"OR EXISTS (SELECT 1 FROM {READ}.lectures WHERE created_event_id = $1) "
            f"OR EXISTS (SELECT 1 FROM {READ}.projector_rejected_events WHERE event_id = $1)",
            event_id,
        )
        return bool(found)

    async def ping(self) -> None:
        """A real round trip to PostgreSQL (readiness)."""
        await self._pool.fetchval("SELECT 1")

    async def generation(self) -> int:
        """The projection generation readers see: proves the views are there."""
        value = await self._fetchval(f"SELECT generation FROM {READ}.current_generation")
        return int(value)

    async def _fetch(self, query: str, *args: Any) -> list[Row]:
        rows = await _guard(lambda: self._pool.fetch(query, *args))
        return [dict(row) for row in rows]

    async def _fetchrow(self, query: str, *args: Any) -> Row | None:
        row = await _guard(lambda: self._pool.fetchrow(query, *args))
        return None if row is None else dict(row)

    async def _fetchval(self, query: str, *args: Any) -> Any:
        return await _guard(lambda: self._pool.fetchval(query, *args))


async def _guard(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        raise ReadModelUnavailableError(str(exc)) from exc
