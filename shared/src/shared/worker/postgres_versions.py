"""`VersionStore` in PostgreSQL: the table `worker_asset_versions`, owned by the workers.

Each call locks the asset (a transaction-scoped advisory lock), loads its row, applies the
pure rule of `shared.worker.versions` and writes the result in the same transaction, so two
records of one asset judged at once (a duplicate fetched next to its original) see each other.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.status import AssetStatus
from shared.worker.versions import (
    Claim,
    Settlement,
    Verdict,
    VersionRow,
    confirm,
    judge,
    settle,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS worker_asset_versions (
    kind text NOT NULL,
    asset_id text NOT NULL,
    latest_requested_version integer NOT NULL,
    attempt integer NOT NULL,
    claimed_by text,
    terminal_version integer NOT NULL DEFAULT 0,
    outcome text,
    pending_position text,
    pending_plan jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, asset_id)
)
"""
_SCHEMA_LOCK = 0x6C67_7776  # pg_advisory_xact_lock key: one CREATE TABLE at a time

# The transaction-scoped advisory lock serialises every turn of one asset, including the
# first, when there is no row yet that `FOR UPDATE` could lock.
_LOCK_AND_SELECT = """
SELECT w.kind, w.latest_requested_version, w.attempt, w.claimed_by, w.terminal_version,
       w.outcome, w.pending_position, w.pending_plan::text AS pending_plan
FROM (SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))) AS lock
LEFT JOIN worker_asset_versions AS w ON w.kind = $1 AND w.asset_id = $2
"""
_UPSERT = """
INSERT INTO worker_asset_versions AS w (kind, asset_id, latest_requested_version, attempt,
    claimed_by, terminal_version, outcome, pending_position, pending_plan, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, now())
ON CONFLICT (kind, asset_id) DO UPDATE SET
    latest_requested_version = EXCLUDED.latest_requested_version,
    attempt = EXCLUDED.attempt,
    claimed_by = EXCLUDED.claimed_by,
    terminal_version = EXCLUDED.terminal_version,
    outcome = EXCLUDED.outcome,
    pending_position = EXCLUDED.pending_position,
    pending_plan = EXCLUDED.pending_plan,
    updated_at = now()
"""


async def create_schema(pool: asyncpg.Pool) -> None:
    """Create the table if it is missing (safe when several workers start at once)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
        await conn.execute(SCHEMA)


class PostgresVersionStore:
    """Idempotency records in PostgreSQL; the caller owns the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, claim: Claim) -> tuple[Verdict, str | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _load(conn, claim)
            verdict, new = judge(row, claim)
            if new is not None:
                await _save(conn, claim, new)
        plan = row.pending_plan if verdict is Verdict.RESEND and row is not None else None
        return verdict, plan

    async def settle(self, claim: Claim, result: Settlement, plan: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _load(conn, claim)
            if row is None:
                raise LookupError(f"no claim for {claim.kind} asset {claim.asset_id}")
            await _save(conn, claim, settle(row, claim, result, plan))

    async def confirm(self, claim: Claim) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _load(conn, claim)
            new = None if row is None else confirm(row, claim.position)
            if new is not None:
                await _save(conn, claim, new)


async def _load(conn: Any, claim: Claim) -> VersionRow | None:
    found = await conn.fetchrow(_LOCK_AND_SELECT, claim.kind.value, claim.asset_id)
    if found is None or found["kind"] is None:
        return None
    return VersionRow(
        latest_requested_version=found["latest_requested_version"],
        attempt=found["attempt"],
        claimed_by=found["claimed_by"],
        terminal_version=found["terminal_version"],
        outcome=None if found["outcome"] is None else AssetStatus(found["outcome"]),
        pending_position=found["pending_position"],
        pending_plan=found["pending_plan"],
    )


async def _save(conn: Any, claim: Claim, row: VersionRow) -> None:
    await conn.execute(
        _UPSERT,
        claim.kind.value,
        claim.asset_id,
        row.latest_requested_version,
        row.attempt,
        row.claimed_by,
        row.terminal_version,
        None if row.outcome is None else row.outcome.value,
        row.pending_position,
        row.pending_plan,
    )
