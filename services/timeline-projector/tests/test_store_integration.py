from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.read_model.tables import ASSETS, FEED
from timeline_projector import store
from timeline_projector.batch_state import BatchState, Writes
from timeline_projector.migrate import create_generation, migrate
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import stored_rows
from timeline_projector.verify import checksums

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(pg_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_database)
    try:
        await migrate(connection)
        yield connection
    finally:
        await connection.close()


def two_batches() -> tuple[Writes, Writes]:
    """The writes of a log folded in two batches: the second replaces rows of the first."""
    log = list(synthetic_log(6, seed=31))
    first = BatchState()
    for envelope in log[: len(log) // 2]:
        first.fold(envelope)
    second = BatchState(
        lectures=first.writes.lectures.values(),
        assets=first.writes.assets.values(),
        attempts=first.writes.attempts.values(),
        last_seqs=dict(first.writes.last_seqs),
        seen=(row.event_id for row in first.writes.feed),
    )
    for envelope in log[len(log) // 2 :]:
        second.fold(envelope)
    return first.writes, second.writes


async def test_writes_through_copy_and_through_arrays_store_the_same_rows(
    conn: asyncpg.Connection,
) -> None:
    copied = await create_generation(conn)
    arrayed = await create_generation(conn)
    first, second = two_batches()
    assert set(first.assets) & set(second.assets)

    for writes in (first, second):
        async with conn.transaction():
            await store.write(conn, copied.schema, writes, copy_from=1)
            await store.write(conn, arrayed.schema, writes, copy_from=10**9)

    assert await checksums(conn, copied.schema) == await checksums(conn, arrayed.schema)
    rows = await stored_rows(conn, copied.schema)
    assert len(rows["assets"]) == len({*first.assets, *second.assets})
    assert len(rows["lecture_event_feed"]) == len(first.feed) + len(second.feed)


async def test_two_writes_in_one_transaction_through_copy_each_merge_only_their_own_rows(
    conn: asyncpg.Connection,
) -> None:
    generation = await create_generation(conn)
    first, second = two_batches()

    async with conn.transaction():
        await store.write(conn, generation.schema, first, copy_from=1)
        await store.write(conn, generation.schema, second, copy_from=1)

    assets = await store.select_all(conn, generation.schema, ASSETS)
    assert {row.asset_id: row for row in assets} == {**first.assets, **second.assets}


async def test_a_value_copy_cannot_encode_is_a_data_error_and_the_connection_goes_on(
    conn: asyncpg.Connection,
) -> None:
    generation = await create_generation(conn)
    first, _ = two_batches()
    feed = [first.feed[0]._replace(prompt_version=2**40), *first.feed[1:]]

    async with conn.transaction():
        with pytest.raises(asyncpg.DataError, match="lecture_event_feed: value out of int32"):
            async with conn.transaction():
                await store.write(conn, generation.schema, Writes(feed=feed), copy_from=1)
        await store.write(conn, generation.schema, Writes(feed=first.feed[1:]), copy_from=1)

    stored = await store.select_all(conn, generation.schema, FEED)
    assert len(stored) == len(first.feed) - 1
