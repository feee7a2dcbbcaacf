"""The idempotency rule, run against the in-memory store and PostgreSQL alike (one contract)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from shared.media import MediaKind
from shared.status import AssetStatus
from shared.worker.postgres_versions import PostgresVersionStore, create_pool, create_schema
from shared.worker.versions import (
    Claim,
    Ended,
    InMemoryVersionStore,
    Scheduled,
    Verdict,
    VersionStore,
)

REQUEST = "lecturegen.image.requests.v1:0:"
TIER = "lecturegen.image.retry.5s.v1:0:"


def _claim(version: int = 1, attempt: int = 1, position: str = REQUEST + "10") -> Claim:
    return Claim(MediaKind.IMAGE, "a1", version, attempt, position)


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
    assert await store.claim(_claim()) == (Verdict.PROCEED, None)


async def test_a_redelivered_request_proceeds_again_until_its_outcome_is_saved(
    store: VersionStore,
) -> None:
    await store.claim(_claim())

    assert (await store.claim(_claim()))[0] is Verdict.PROCEED


async def test_a_duplicate_command_at_another_offset_is_skipped_while_the_first_runs(
    store: VersionStore,
) -> None:
    await store.claim(_claim(position=REQUEST + "10"))

    assert (await store.claim(_claim(position=REQUEST + "11")))[0] is Verdict.DUPLICATE


async def test_a_request_of_a_version_that_ended_is_skipped(store: VersionStore) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Ended(AssetStatus.GENERATED), "[]")
    await store.confirm(claim)

    assert (await store.claim(_claim(position=REQUEST + "11")))[0] is Verdict.ALREADY_DONE
    assert (await store.claim(claim))[0] is Verdict.ALREADY_DONE


async def test_an_older_version_than_the_latest_requested_is_superseded(
    store: VersionStore,
) -> None:
    await store.claim(_claim(version=2, position=REQUEST + "20"))

    assert (await store.claim(_claim(version=1)))[0] is Verdict.SUPERSEDED


async def test_a_newer_version_proceeds_even_while_the_older_one_runs(store: VersionStore) -> None:
    await store.claim(_claim(version=1))

    assert (await store.claim(_claim(version=2, position=REQUEST + "20")))[0] is Verdict.PROCEED


async def test_a_newer_version_proceeds_after_the_older_one_ended(store: VersionStore) -> None:
    first = _claim(version=1)
    await store.claim(first)
    await store.settle(first, Ended(AssetStatus.NEEDS_PROMPT_UPDATE), "[]")
    await store.confirm(first)

    assert (await store.claim(_claim(version=2, position=REQUEST + "20")))[0] is Verdict.PROCEED


async def test_a_saved_but_unconfirmed_outcome_is_resent_not_recomputed(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Ended(AssetStatus.GENERATED), '[{"saved": 1}]')

    assert await store.claim(claim) == (Verdict.RESEND, '[{"saved": 1}]')
    # another record of the same asset is not the one that saved it
    assert (await store.claim(_claim(position=REQUEST + "11")))[0] is Verdict.ALREADY_DONE


async def test_once_confirmed_a_redelivery_is_skipped_instead_of_resent(
    store: VersionStore,
) -> None:
    claim = _claim()
    await store.claim(claim)
    await store.settle(claim, Scheduled(), "[]")
    await store.confirm(claim)

    assert (await store.claim(claim))[0] is Verdict.STALE


async def test_the_first_retry_record_claims_the_next_attempt_and_a_copy_of_it_is_skipped(
    store: VersionStore,
) -> None:
    first = _claim()
    await store.claim(first)
    await store.settle(first, Scheduled(), "[]")
    await store.confirm(first)

    assert (await store.claim(_claim(attempt=2, position=TIER + "5")))[0] is Verdict.PROCEED
    assert (await store.claim(_claim(attempt=2, position=TIER + "6")))[0] is Verdict.DUPLICATE
    assert (await store.claim(_claim(attempt=2, position=TIER + "5")))[0] is Verdict.PROCEED


async def test_a_retry_record_of_a_later_attempt_takes_over_from_an_earlier_one(
    store: VersionStore,
) -> None:
    # the crash window between "retry record acknowledged" and "state saved" is not reachable
    # with settle-before-send, but a later attempt must win whenever one shows up
    await store.claim(_claim())

    assert (await store.claim(_claim(attempt=3, position=TIER + "9")))[0] is Verdict.PROCEED
    assert (await store.claim(_claim(attempt=2, position=TIER + "5")))[0] is Verdict.STALE


async def test_each_asset_and_medium_has_its_own_record(store: VersionStore) -> None:
    await store.claim(_claim())
    other_asset = Claim(MediaKind.IMAGE, "a2", 1, 1, REQUEST + "11")
    other_kind = Claim(MediaKind.MUSIC, "a1", 1, 1, "lecturegen.music.requests.v1:0:3")

    assert (await store.claim(other_asset))[0] is Verdict.PROCEED
    assert (await store.claim(other_kind))[0] is Verdict.PROCEED


async def test_of_two_copies_of_a_command_judged_at_once_exactly_one_proceeds(
    store: VersionStore,
) -> None:
    claims = [_claim(position=REQUEST + str(offset)) for offset in range(10, 16)]

    verdicts = await asyncio.gather(*(store.claim(c) for c in claims))

    assert sorted(v for v, _ in verdicts) == sorted(
        [Verdict.PROCEED] + [Verdict.DUPLICATE] * (len(claims) - 1)
    )


@pytest.mark.integration
async def test_the_schema_upgrades_a_table_of_the_first_version_in_place(
    pg_database: str,
) -> None:
    pool = await create_pool(pg_database, max_size=2)
    try:
        await pool.execute(
            """CREATE TABLE worker_asset_versions (
                kind text NOT NULL, asset_id text NOT NULL,
                latest_requested_version integer NOT NULL, attempt integer NOT NULL,
                claimed_by text, terminal_version integer NOT NULL DEFAULT 0, outcome text,
                pending_position text, pending_plan jsonb,
                updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, asset_id))"""
        )
        await create_schema(pool)
        store = PostgresVersionStore(pool)
        claim = _claim()
        await store.claim(claim)
        await store.settle(claim, Ended(AssetStatus.GENERATED), '[{"saved": 1}]')

        assert await store.claim(claim) == (Verdict.RESEND, '[{"saved": 1}]')
    finally:
        await pool.close()
