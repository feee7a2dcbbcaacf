"""`VersionStore` in PostgreSQL: the table `asset_versions` in the workers' own schema
(`lecturegen_worker`, made by `migrations/`).

Each step reads the asset's row, applies the pure rule of `shared.worker.versions` and writes
the result only if the row is still the one it read (compare-and-set on `revision`); when
another record of the asset got there first, it reads again and decides again. So two records
of one asset judged at once (a duplicate fetched next to its original, in one worker or two)
see each other, without a transaction spanning round trips.

Steps are batched (decision 0031): steps asked for while batches are under way wait for the
next one (two run at once, on two connections), and a batch costs at most two statements
whatever its size: one read of the rows the claims among it need afresh (`unnest` of the
keys), one compare-and-set write of every row that changes (inserts and updates in one
statement). Settle and confirm start from the row this process wrote last and need no read.
One asset has at most one step in the batches under way; a second waits for a later batch,
so steps of one asset apply in the order asked.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic_core import to_json

from shared import migrations
from shared.migrations import ServiceSchema
from shared.postgres import Connection
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
_SELECT = f"""
SELECT t.kind, t.asset_id, {", ".join(f"t.{c}" for c in _COLUMNS.split(", "))}, t.revision
FROM {_TABLE} t JOIN unnest($1::text[], $2::text[]) AS k(kind, asset_id)
    ON t.kind = k.kind AND t.asset_id = k.asset_id
"""
_WRITE = f"""
WITH v AS (
    SELECT * FROM json_to_recordset($1::json) AS v(
        kind text, asset_id text, latest_requested_version integer, attempt integer,
        claimed_by text, terminal_version integer, outcome text, pending_position text,
        pending_plan text, inflight_version integer, inflight_attempt integer,
        inflight_prediction_id text, revision bigint
    )
),
inserted AS (
    INSERT INTO {_TABLE} (kind, asset_id, {_COLUMNS})
    SELECT kind, asset_id, {_COLUMNS} FROM v WHERE v.revision IS NULL
    ON CONFLICT (kind, asset_id) DO NOTHING
    RETURNING kind, asset_id, revision
),
updated AS (
    UPDATE {_TABLE} t SET
        latest_requested_version = v.latest_requested_version, attempt = v.attempt,
        claimed_by = v.claimed_by, terminal_version = v.terminal_version, outcome = v.outcome,
        pending_position = v.pending_position, pending_plan = v.pending_plan,
        inflight_version = v.inflight_version, inflight_attempt = v.inflight_attempt,
        inflight_prediction_id = v.inflight_prediction_id,
        revision = t.revision + 1, updated_at = now()
    FROM v
    WHERE t.kind = v.kind AND t.asset_id = v.asset_id AND t.revision = v.revision
    RETURNING t.kind, t.asset_id, t.revision
)
SELECT * FROM inserted UNION ALL SELECT * FROM updated
"""
"""The rows to write come as one JSON array of objects: sent as one text value, where 13
arrays cost asyncpg a check per element (`collections.abc`, in Python) that was a good part
of a batch's time."""

_Key = tuple[str, str]
_Known = tuple[VersionRow | None, int | None]
"""A row as last read or written, and its revision (None: there is no row)."""
_BATCHES_AT_ONCE = 2
"""Batches under way at once, each on its own connection: the next one is collected and
sent while the one before waits for its answer."""
_Rule = Callable[[VersionRow | None], tuple[Any, VersionRow | None]]


@dataclass(slots=True)
class _Step:
    """A rule to apply to one asset's row in the next batch, and who waits for its answer."""

    key: _Key
    rule: _Rule
    fresh: bool
    """Read the row first instead of starting from the one this process wrote last."""
    answer: asyncio.Future[Any]


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
        self._steps: deque[_Step] = deque()
        self._runners: set[asyncio.Task[None]] = set()
        self._busy: set[_Key] = set()
        """Assets with a step in a batch under way."""

    async def claim(self, claim: Claim) -> Claimed:
        def rule(row: VersionRow | None) -> tuple[Claimed, VersionRow | None]:
            return answer(row, claim)

        # always read afresh: a stale row could turn a record away that should run, or
        # miss the prediction a killed process saved
        claimed: Claimed = await self._apply(claim, rule, fresh=True)
        if claimed.verdict not in (Verdict.PROCEED, Verdict.RESEND):
            self._known.pop(_key(claim), None)  # no settle or confirm follows
        return claimed

    async def remember(self, claim: Claim, prediction_id: str) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            return None, remember(row, claim, prediction_id)

        await self._apply(claim, rule)

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            if row is None:
                raise LookupError(f"no claim for {claim.kind} asset {claim.asset_id}")
            return None, settle(row, claim, result, unsent)

        await self._apply(claim, rule)

    async def confirm(self, claim: Claim) -> None:
        def rule(row: VersionRow | None) -> tuple[None, VersionRow | None]:
            return None, None if row is None else confirm(row, claim.position)

        try:
            await self._apply(claim, rule)
        finally:
            self._known.pop(_key(claim), None)

    async def _apply(self, claim: Claim, rule: _Rule, fresh: bool = False) -> Any:
        """Apply `rule` to the asset's row in the next batch; its answer once written."""
        step = _Step(_key(claim), rule, fresh, asyncio.get_running_loop().create_future())
        self._steps.append(step)
        # a runner whose coroutine returned is done at once, before its callback drops it
        if sum(not runner.done() for runner in self._runners) < _BATCHES_AT_ONCE:
            runner = asyncio.create_task(self._run_batches(), name="version-batches")
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return await step.answer

    async def _run_batches(self) -> None:
        """Run batches until no step is left that another batch under way does not hold up
        (that batch's runner takes those when it is done)."""
        while batch := self._next_batch():
            keys = {step.key for step in batch}
            self._busy |= keys
            try:
                async with self._pool.acquire() as conn:
                    await self._run_batch(conn, batch)
            except Exception as exc:
                for step in batch:
                    if not step.answer.done():
                        step.answer.set_exception(exc)
            finally:
                self._busy -= keys

    def _next_batch(self) -> list[_Step]:
        """The waiting steps, one per asset and none of an asset in a batch under way (the
        others wait for a later batch, in order); steps whose caller gave up are dropped."""
        batch: dict[_Key, _Step] = {}
        later: deque[_Step] = deque()
        for step in self._steps:
            if step.answer.done():
                continue
            if step.key in batch or step.key in self._busy:
                later.append(step)
            else:
                batch[step.key] = step
        self._steps = later
        return list(batch.values())

    async def _run_batch(self, conn: Connection, batch: list[_Step]) -> None:
        """Apply every step of `batch` and write what changed; a step that lost a race to
        another writer is read again and applied again, until none is left."""
        while batch:
            unread = [s.key for s in batch if s.fresh or s.key not in self._known]
            if unread:
                await self._load(conn, unread)
            writes: list[tuple[_Step, Any, VersionRow, int | None]] = []
            for step in batch:
                row, revision = self._known.get(step.key, (None, None))
                try:
                    result, new = step.rule(row)
                except Exception as exc:
                    step.answer.set_exception(exc)
                    continue
                if new is None or new == row:
                    _resolve(step, result)
                else:
                    writes.append((step, result, new, revision))
            written = await self._write(conn, [(s.key, new, rev) for s, _, new, rev in writes])
            batch = []
            for step, result, new, _ in writes:
                revision = written.get(step.key)
                if revision is None:  # someone else wrote first: read again, decide again
                    step.fresh = True
                    batch.append(step)
                else:
                    self._known[step.key] = (new, revision)
                    _resolve(step, result)

    async def _load(self, conn: Connection, keys: list[_Key]) -> None:
        """Read the rows of `keys` into `_known` (no row: known to be absent)."""
        found = await conn.fetch(_SELECT, [k for k, _ in keys], [a for _, a in keys])
        for key in keys:
            self._known[key] = (None, None)
        for r in found:
            self._known[(r["kind"], r["asset_id"])] = (_row(r), int(r["revision"]))

    async def _write(
        self, conn: Connection, writes: list[tuple[_Key, VersionRow, int | None]]
    ) -> dict[_Key, int]:
        """Write each row if its revision is still the given one (None: if there is no row);
        the new revisions of those written."""
        if not writes:
            return {}
        rows = [
            {
                "kind": kind,
                "asset_id": asset_id,
                "latest_requested_version": row.latest_requested_version,
                "attempt": row.attempt,
                "claimed_by": row.claimed_by,
                "terminal_version": row.terminal_version,
                "outcome": None if row.outcome is None else row.outcome.value,
                "pending_position": row.pending_position,
                "pending_plan": row.unsent,
                "inflight_version": None if row.inflight is None else row.inflight.prompt_version,
                "inflight_attempt": None if row.inflight is None else row.inflight.attempt,
                "inflight_prediction_id": (
                    None if row.inflight is None else row.inflight.prediction_id
                ),
                "revision": revision,
            }
            for (kind, asset_id), row, revision in writes
        ]
        found = await conn.fetch(_WRITE, to_json(rows).decode())
        return {(r["kind"], r["asset_id"]): int(r["revision"]) for r in found}


def _resolve(step: _Step, result: Any) -> None:
    if not step.answer.done():
        step.answer.set_result(result)


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


def _inflight(found: Any) -> Inflight | None:
    if found["inflight_prediction_id"] is None:
        return None
    return Inflight(
        found["inflight_version"], found["inflight_attempt"], found["inflight_prediction_id"]
    )
