"""The idempotency rule, run against the in-memory store and PostgreSQL alike (one contract)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import pytest

from shared.media import MediaKind
from shared.status import AssetStatus
from shared.worker.postgres_versions import PostgresVersionStore, create_pool, create_schema
from shared.worker.versions import (
    Claim,
    Claimed,
    Ended,
    Inflight,
    InMemoryVersionStore,
    Scheduled,
    Verdict,
    VersionRow,
    VersionStore,
    remember,
    settle,
    to_resume,
)

REQUEST = "lecturegen.image.requests.v1:0:"
TIER = "lecturegen.image.retry.5s.v1:0:"


def _claim(
    version: int = 1, attempt: int = 1, position: str = REQUEST + "10", carried: str | None = None
) -> Claim:
    return Claim(MediaKind.IMAGE, "a1", version, attempt, position, carried)


@pytest.fixture
def memory_store() -> VersionStore:
    return InMemoryVersionStore()


@pytest.fixture
async def postgres_store(pg_database: str) -> AsyncIterator[VersionStore]:
    pool = await create_pool(pg_database, max_size=4)
    try:
        await create_schema(pool)
        await create_schema(pool)  # idempotent
        yield PostgresVersionStore(pool)
    finally:
        await pool.close()


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> VersionStore:
    found: VersionStore = request.getfixturevalue(f"{request.param}_store")
    return found


async def test_the_first_request_of_an_asset_proceeds(store: VersionStore) -> None:
    assert await store.claim(_claim()) == Claimed(Verdict.PROCEED)


async def test_a_redelivered_request_proceeds_again_until_its_outcome_is_saved(
    store: VersionStore,
) -> None:
    await store.claim(_claim())

    assert (await store.claim(_claim())).verdict is Verdict.PROCEED


async def test_a_duplicate_command_at_another_offset_is_skipped_while_the_first_runs(
    store: VersionStore,
) -> None:
    await store.claim(_claim(position=REQUEST + "10"))

    assert (await store.claim(_claim(position=REQUEST + "11"))).verdict is Verdict.DUPLICATE


async def test_a_request_of_a_version_that_ended_is_skipped(store: VersionStore) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Ended(AssetStatus.GENERATED), "[]")
    await store.confirm(claim)

    assert (await store.claim(_claim(position=REQUEST + "11"))).verdict is Verdict.ALREADY_DONE
    assert (await store.claim(claim)).verdict is Verdict.ALREADY_DONE


async def test_an_older_version_than_the_latest_requested_is_superseded(
    store: VersionStore,
) -> None:
    await store.claim(_claim(version=2, position=REQUEST + "20"))

    assert (await store.claim(_claim(version=1))).verdict is Verdict.SUPERSEDED


async def test_a_newer_version_proceeds_even_while_the_older_one_runs(store: VersionStore) -> None:
    await store.claim(_claim(version=1))

    newer = await store.claim(_claim(version=2, position=REQUEST + "20"))
    assert newer.verdict is Verdict.PROCEED


async def test_a_newer_version_proceeds_after_the_older_one_ended(store: VersionStore) -> None:
    first = _claim(version=1)
    await store.claim(first)
    await store.settle(first, Ended(AssetStatus.NEEDS_PROMPT_UPDATE), "[]")
    await store.confirm(first)

    newer = await store.claim(_claim(version=2, position=REQUEST + "20"))
    assert newer.verdict is Verdict.PROCEED


async def test_a_saved_but_unconfirmed_outcome_is_resent_not_recomputed(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Ended(AssetStatus.GENERATED), '[{"saved": 1}]')

    assert await store.claim(claim) == Claimed(Verdict.RESEND, unsent='[{"saved": 1}]')
    # another record of the same asset is not the one that saved it
    assert (await store.claim(_claim(position=REQUEST + "11"))).verdict is Verdict.ALREADY_DONE


async def test_once_confirmed_a_redelivery_is_skipped_instead_of_resent(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Scheduled(), "[]")
    await store.confirm(claim)

    assert (await store.claim(claim)).verdict is Verdict.STALE


async def test_the_first_retry_record_claims_the_next_attempt_and_a_copy_of_it_is_skipped(
    store: VersionStore,
) -> None:
    first = _claim()
    await store.claim(first)
    await store.settle(first, Scheduled(), "[]")
    await store.confirm(first)

    assert (await store.claim(_claim(attempt=2, position=TIER + "5"))).verdict is Verdict.PROCEED
    assert (await store.claim(_claim(attempt=2, position=TIER + "6"))).verdict is Verdict.DUPLICATE
    assert (await store.claim(_claim(attempt=2, position=TIER + "5"))).verdict is Verdict.PROCEED


async def test_a_retry_record_of_a_later_attempt_takes_over_from_an_earlier_one(
    store: VersionStore,
) -> None:
    # the crash window between "retry record acknowledged" and "state saved" is not reachable
    # with settle-before-send, but a later attempt must win whenever one shows up
    await store.claim(_claim())

    assert (await store.claim(_claim(attempt=3, position=TIER + "9"))).verdict is Verdict.PROCEED
    assert (await store.claim(_claim(attempt=2, position=TIER + "5"))).verdict is Verdict.STALE


async def test_each_asset_and_medium_has_its_own_record(store: VersionStore) -> None:
    await store.claim(_claim())
    other_asset = Claim(MediaKind.IMAGE, "a2", 1, 1, REQUEST + "11")
    other_kind = Claim(MediaKind.MUSIC, "a1", 1, 1, "lecturegen.music.requests.v1:0:3")

    assert (await store.claim(other_asset)).verdict is Verdict.PROCEED
    assert (await store.claim(other_kind)).verdict is Verdict.PROCEED


async def test_of_two_copies_of_a_command_judged_at_once_exactly_one_proceeds(
    store: VersionStore,
) -> None:
    claims = [_claim(position=REQUEST + str(offset)) for offset in range(10, 16)]

    verdicts = await asyncio.gather(*(store.claim(c) for c in claims))

    assert sorted(c.verdict for c in verdicts) == sorted(
        [Verdict.PROCEED] + [Verdict.DUPLICATE] * (len(claims) - 1)
    )


# --- resume or create: the prediction of an attempt cut off during its call ----------------


async def test_a_redelivered_request_resumes_the_prediction_its_attempt_created(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.remember(claim, "pred-1")

    assert await store.claim(claim) == Claimed(Verdict.PROCEED, resume_prediction_id="pred-1")


async def test_a_redelivery_before_the_prediction_was_saved_creates_one(
    store: VersionStore,
) -> None:
    await store.claim(_claim())

    assert (await store.claim(_claim())).resume_prediction_id is None


async def test_a_retry_record_resumes_the_prediction_the_failed_attempt_handed_on(
    store: VersionStore,
) -> None:
    first = _claim()
    await store.claim(first)
    await store.remember(first, "pred-1")
    await store.settle(first, Scheduled(), "[]")
    await store.confirm(first)

    retry = _claim(attempt=2, position=TIER + "5", carried="pred-1")
    assert (await store.claim(retry)).resume_prediction_id == "pred-1"


async def test_the_next_attempt_does_not_resume_the_prediction_of_the_one_before(
    store: VersionStore,
) -> None:
    first = _claim()
    await store.claim(first)
    await store.remember(first, "pred-1")
    await store.settle(first, Scheduled(), "[]")
    await store.confirm(first)

    retry = _claim(attempt=2, position=TIER + "5")
    assert await store.claim(retry) == Claimed(Verdict.PROCEED)


async def test_a_prediction_created_after_a_newer_version_took_over_is_not_resumed(
    store: VersionStore,
) -> None:
    old, new = _claim(version=1), _claim(version=2, position=REQUEST + "20")
    await store.claim(old)
    await store.claim(new)
    await store.remember(old, "pred-old")

    assert await store.claim(new) == Claimed(Verdict.PROCEED)
    assert (await store.claim(old)).verdict is Verdict.SUPERSEDED


async def test_a_duplicate_command_is_still_skipped_while_the_prediction_runs(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.remember(claim, "pred-1")

    assert await store.claim(_claim(position=REQUEST + "11")) == Claimed(Verdict.DUPLICATE)


async def test_a_redelivered_attempt_that_ended_is_skipped_not_resumed(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.remember(claim, "pred-1")
    await store.settle(claim, Ended(AssetStatus.GENERATED), "[]")
    await store.confirm(claim)

    assert await store.claim(claim) == Claimed(Verdict.ALREADY_DONE)


def test_settling_an_attempt_forgets_its_prediction_but_not_a_newer_attempts() -> None:
    row = VersionRow(1, 1, REQUEST + "10", inflight=Inflight(1, 1, "pred-1"))
    newer = VersionRow(2, 1, REQUEST + "20", inflight=Inflight(2, 1, "pred-2"))

    assert settle(row, _claim(), Ended(AssetStatus.GENERATED), "[]").inflight is None
    assert settle(row, _claim(), Scheduled(), "[]").inflight is None
    kept = settle(newer, _claim(version=1), Ended(AssetStatus.GENERATED), "[]").inflight
    assert kept == Inflight(2, 1, "pred-2")


def test_a_prediction_is_remembered_only_for_the_live_attempt() -> None:
    row = VersionRow(1, 2, TIER + "5")

    remembered = remember(row, _claim(attempt=2, position=TIER + "5"), "pred-2")
    assert remembered is not None
    assert remembered.inflight == Inflight(1, 2, "pred-2")
    assert remember(row, _claim(attempt=1), "pred-1") is None
    assert remember(None, _claim(), "pred-1") is None
    assert remember(VersionRow(1, 1, None, terminal_version=1), _claim(), "pred-1") is None


def test_the_attempts_own_prediction_comes_before_one_carried_by_its_record() -> None:
    row = VersionRow(1, 2, TIER + "5", inflight=Inflight(1, 2, "pred-own"))
    claim = _claim(attempt=2, position=TIER + "5", carried="pred-carried")

    assert to_resume(row, claim) == "pred-own"
    assert to_resume(VersionRow(1, 2, TIER + "5"), claim) == "pred-carried"
    assert to_resume(None, _claim()) is None


@pytest.mark.integration
async def test_the_migration_moves_a_table_of_the_first_version_into_the_workers_schema(
    pg_database: str,
) -> None:
    pool = await create_pool(pg_database, max_size=2)
    try:
        await pool.execute(
            """CREATE TABLE public.worker_asset_versions (
                kind text NOT NULL, asset_id text NOT NULL,
                latest_requested_version integer NOT NULL, attempt integer NOT NULL,
                claimed_by text, terminal_version integer NOT NULL DEFAULT 0, outcome text,
                pending_position text, pending_plan jsonb,
                updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, asset_id));
            INSERT INTO public.worker_asset_versions
                (kind, asset_id, latest_requested_version, attempt, terminal_version, outcome)
            VALUES ('image', 'kept', 1, 1, 1, 'generated')"""
        )
        await create_schema(pool)
        await create_schema(pool)  # a second start changes nothing
        assert await pool.fetchval("SELECT to_regclass('public.worker_asset_versions')") is None
        kept = await pool.fetch("SELECT asset_id, revision FROM lecturegen_worker.asset_versions")
        assert [tuple(row) for row in kept] == [("kept", 0)]
        store = PostgresVersionStore(pool)
        claim = _claim()
        await store.claim(claim)
        await store.settle(claim, Ended(AssetStatus.GENERATED), '[{"saved": 1}]')

        assert await store.claim(claim) == Claimed(Verdict.RESEND, unsent='[{"saved": 1}]')
        other = _claim(version=2, position=REQUEST + "20")
        await store.claim(other)
        await store.remember(other, "pred-2")
        assert (await store.claim(other)).resume_prediction_id == "pred-2"
    finally:
        await pool.close()


# --- PostgreSQL: steps asked for at once share a batch ----------------------------------------


class _CountingConnection:
    def __init__(self, conn: Any, counter: _CountingPool) -> None:
        self._conn = conn
        self._counter = counter

    async def fetch(self, query: str, *args: Any) -> Any:
        self._counter.statements += 1
        return await self._conn.fetch(query, *args)


class _CountingPool:
    """A pool that counts the statements run on the connections it lends."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.statements = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_CountingConnection]:
        async with self._pool.acquire() as conn:
            yield _CountingConnection(conn, self)


@pytest.mark.integration
async def test_steps_asked_for_at_once_cost_one_read_and_one_write_whatever_their_number(
    pg_database: str,
) -> None:
    pool = await create_pool(pg_database, max_size=2)
    try:
        await create_schema(pool)
        counting = _CountingPool(pool)
        store = PostgresVersionStore(cast(asyncpg.Pool, counting))
        claims = [Claim(MediaKind.IMAGE, f"b{n}", 1, 1, f"{REQUEST}{n}") for n in range(40)]

        verdicts = await asyncio.gather(*(store.claim(c) for c in claims))
        assert {c.verdict for c in verdicts} == {Verdict.PROCEED}
        assert counting.statements == 2

        await asyncio.gather(
            *(store.settle(c, Ended(AssetStatus.GENERATED), f'["{c.asset_id}"]') for c in claims)
        )
        assert counting.statements == 3  # settle starts from the row it wrote: no read
        await asyncio.gather(*(store.confirm(c) for c in claims))
        assert counting.statements == 4

        again = await asyncio.gather(*(store.claim(c) for c in claims))
        assert {c.verdict for c in again} == {Verdict.ALREADY_DONE}
    finally:
        await pool.close()


@pytest.mark.integration
async def test_of_copies_of_a_command_judged_at_once_by_two_workers_exactly_one_proceeds(
    pg_database: str,
) -> None:
    pool = await create_pool(pg_database, max_size=4)
    try:
        await create_schema(pool)
        workers = [PostgresVersionStore(pool), PostgresVersionStore(pool)]
        claims = [_claim(position=REQUEST + str(offset)) for offset in range(10, 20)]

        verdicts = await asyncio.gather(*(workers[n % 2].claim(c) for n, c in enumerate(claims)))

        assert sorted(c.verdict for c in verdicts) == sorted(
            [Verdict.PROCEED] + [Verdict.DUPLICATE] * (len(claims) - 1)
        )
    finally:
        await pool.close()


def _assets_of(args: tuple[Any, ...]) -> set[str]:
    """The assets a statement of the store touches: a read names them in its second array,
    a write sends its rows as one JSON document."""
    if len(args) == 1:
        return {row["asset_id"] for row in json.loads(args[0])}
    return set(args[1])


class _SlowConnection:
    """Each statement takes 50 ms; records which assets the statements under way touch."""

    def __init__(self, conn: Any, pool: _SlowPool) -> None:
        self._conn = conn
        self._pool = pool

    async def fetch(self, query: str, *args: Any) -> Any:
        assets = _assets_of(args)
        self._pool.overlaps |= assets & self._pool.under_way
        self._pool.under_way |= assets
        self._pool.most_at_once = max(self._pool.most_at_once, self._pool.statements + 1)
        self._pool.statements += 1
        try:
            await asyncio.sleep(0.05)
            return await self._conn.fetch(query, *args)
        finally:
            self._pool.statements -= 1
            self._pool.under_way -= assets


class _SlowPool:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.statements = 0
        self.most_at_once = 0
        self.under_way: set[str] = set()
        self.overlaps: set[str] = set()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_SlowConnection]:
        async with self._pool.acquire() as conn:
            yield _SlowConnection(conn, self)


@pytest.mark.integration
async def test_two_batches_run_at_once_but_never_two_steps_of_one_asset(
    pg_database: str,
) -> None:
    pool = await create_pool(pg_database, max_size=4)
    try:
        await create_schema(pool)
        slow = _SlowPool(pool)
        store = PostgresVersionStore(cast(asyncpg.Pool, slow))
        first = asyncio.ensure_future(store.claim(_claim(position=REQUEST + "10")))
        await asyncio.sleep(0.02)  # its batch is under way
        later = [_claim(position=REQUEST + "11")] + [
            Claim(MediaKind.IMAGE, f"other{n}", 1, 1, f"{REQUEST}{n}") for n in range(5)
        ]
        verdicts = await asyncio.gather(first, *(store.claim(c) for c in later))

        assert slow.most_at_once == 2  # the other assets did not wait for the first batch
        assert slow.overlaps == set()
        assert [v.verdict for v in verdicts[:2]] == [Verdict.PROCEED, Verdict.DUPLICATE]
        assert {v.verdict for v in verdicts[2:]} == {Verdict.PROCEED}
    finally:
        await pool.close()
