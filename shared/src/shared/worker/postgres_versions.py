"""`VersionStore` in PostgreSQL: the table `asset_versions` in the workers' own schema
(`lecturegen_worker`, made by `migrations/`).

Each step reads the asset's row, applies the pure rule of `shared.worker.versions` and writes
the result only if the row is still the one it read (compare-and-set on `revision`); when
another record of the asset got there first, it reads again and decides again. So two records
of one asset judged at once (a duplicate fetched next to its original, in one worker or two)
see each other, without a transaction spanning round trips.

A turn costs four short statements: read and write for the claim, then one write each for
settle and confirm, which start from the row this process wrote last; a fifth saves the
prediction id when the provider has created one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg

from shared import migrations
from shared.migrations import ServiceSchema
from shared.status import AssetStatus
from shared.worker.versions import (
    Claim,
    Claimed,
    Inflight,
    Settlement,
    Verdict,
    VersionRow,
    answer,
    confirm,
    remember,
    settle,
)

SCHEMA = ServiceSchema("lecturegen_worker", "shared.worker.migrations")
"""The workers' own schema and its migrations."""
_TABLE = f"{SCHEMA.name}.asset_versions"

_COLUMNS = (
    "latest_requested_version, attempt, claimed_by, terminal_version, outcome, "
    "pending_position, pending_plan, inflight_version, inflight_attempt, inflight_prediction_id"
)
_SELECT = f"SELECT {_COLUMNS}, revision FROM {_TABLE} WHERE kind = $1 AND asset_id = $2"
_INSERT = f"""
INSERT INTO {_TABLE} (kind, asset_id, {_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (kind, asset_id) DO NOTHING
RETURNING revision
"""
_UPDATE = f"""
UPDATE {_TABLE} SET
    latest_requested_version = $3, attempt = $4, claimed_by = $5, terminal_version = $6,
    outcome = $7, pending_position = $8, pending_plan = $9, inflight_version = $10,
    inflight_attempt = $11, inflight_prediction_id = $12,
    revision = revision + 1, updated_at = now()
WHERE kind = $1 AND asset_id = $2 AND revision = $13
RETURNING revision
"""

R = TypeVar("R")
_Key = tuple[str, str]
_Known = tuple[VersionRow | None, int | None]
"""A row as last read or written, and its revision (None: there is no row)."""


async def create_schema(pool: asyncpg.Pool) -> None:
    """Create or migrate the workers' schema (safe when several workers start at once)."""
    async with pool.acquire() as conn:
        await migrations.migrate(conn, SCHEMA)


async def keep_session(connection: asyncpg.Connection) -> None:
    """A pool `reset` that skips asyncpg's reset query: the store leaves no session state
    behind (no temporary tables, listeners or session locks), so it saves a round trip."""


async def create_pool(dsn: str, max_size: int) -> asyncpg.Pool:
    """A pool for `PostgresVersionStore`."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size, reset=keep_session
    )
    return pool


class PostgresVersionStore:
    """Idempotency records in PostgreSQL; the caller owns the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._known: dict[_Key, _Known] = {}
        """The rows of assets this process is working on, as it last wrote them."""

    async def claim(self, claim: Claim) -> Claimed:
        def rule(row: VersionRow | None) -> tuple[Claimed, VersionRow | None]:
            return answer(row, claim)

        # always read afresh: a stale row could turn a record away that should run, or
        # miss the prediction a killed process saved
        claimed = await self._apply(claim, rule, await self._load(claim))
        if claimed.verdict not in (Verdict.PROCEED, Verdict.RESEND):
            self._known.pop(_key(claim), None)  # no settle or confirm follows
        return claimed

    async def remember(self, claim: Claim, prediction_id: str) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            return None, remember(row, claim, prediction_id)

        await self._apply(claim, rule, self._known.get(_key(claim)))

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            if row is None:
                raise LookupError(f"no claim for {claim.kind} asset {claim.asset_id}")
            return None, settle(row, claim, result, unsent)

        await self._apply(claim, rule, self._known.get(_key(claim)))

    async def confirm(self, claim: Claim) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            return None, None if row is None else confirm(row, claim.position)

        try:
            await self._apply(claim, rule, self._known.get(_key(claim)))
        finally:
            self._known.pop(_key(claim), None)

    async def _apply(
        self,
        claim: Claim,
        rule: Callable[[VersionRow | None], tuple[R, VersionRow | None]],
        known: _Known | None,
    ) -> R:
        """Apply `rule` to the row and write its result if the row did not change meanwhile;
        otherwise read it again and apply the rule again."""
        key = _key(claim)
        while True:
            row, revision = known if known is not None else await self._load(claim)
            answer, new = rule(row)
            if new is None or new == row:
                self._known[key] = (row, revision)
                return answer
            written = await self._write(key, new, revision)
            if written is not None:
                self._known[key] = (new, written)
                return answer
            known = None  # someone else wrote first: read again

    async def _load(self, claim: Claim) -> _Known:
        found = await self._pool.fetchrow(_SELECT, *_key(claim))
        if found is None:
            return None, None
        return _row(found), int(found["revision"])

    async def _write(self, key: _Key, row: VersionRow, revision: int | None) -> int | None:
        values = (
            row.latest_requested_version,
            row.attempt,
            row.claimed_by,
            row.terminal_version,
            None if row.outcome is None else row.outcome.value,
            row.pending_position,
            row.unsent,
            *_inflight_values(row.inflight),
        )
        if revision is None:
            written = await self._pool.fetchval(_INSERT, *key, *values)
        else:
            written = await self._pool.fetchval(_UPDATE, *key, *values, revision)
        return None if written is None else int(written)


def _key(claim: Claim) -> _Key:
    return claim.kind.value, claim.asset_id


def _row(found: Any) -> VersionRow:
    return VersionRow(
        latest_requested_version=found["latest_requested_version"],
        attempt=found["attempt"],
        claimed_by=found["claimed_by"],
        terminal_version=found["terminal_version"],
        outcome=None if found["outcome"] is None else AssetStatus(found["outcome"]),
        pending_position=found["pending_position"],
        unsent=found["pending_plan"],  # the column keeps the name it was created with
        inflight=_inflight(found),
    )


def _inflight_values(inflight: Inflight | None) -> tuple[int | None, int | None, str | None]:
    if inflight is None:
        return None, None, None
    return inflight.prompt_version, inflight.attempt, inflight.prediction_id


def _inflight(found: Any) -> Inflight | None:
    if found["inflight_prediction_id"] is None:
        return None
    return Inflight(
        found["inflight_version"], found["inflight_attempt"], found["inflight_prediction_id"]
    )
