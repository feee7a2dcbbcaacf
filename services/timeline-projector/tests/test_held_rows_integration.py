"""Rows a replay holds back while its working set is complete, written once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.envelope import Envelope, encode, envelop
from shared.events import LectureCreated
from shared.kafka.records import Record
from timeline_projector.batch import apply_records
from timeline_projector.held_rows import HeldRows, HeldRowsError
from timeline_projector.migrate import create_generation, migrate
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import expected_rows, stored_rows
from timeline_projector.working_set import WorkingSet

pytestmark = pytest.mark.integration

GROUP = "rebuild"


@pytest.fixture
async def conn(pg_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_database)
    try:
        await migrate(connection)
        yield connection
    finally:
        await connection.close()


def records(envelopes: list[Envelope], start: int = 0) -> list[Record]:
    out = []
    for offset, envelope in enumerate(envelopes, start=start):
        value, headers = encode(envelope)
        out.append(Record("events", 0, offset, 0, None, value, headers))
    return out


async def count(conn: asyncpg.Connection, schema: str, table: str) -> int:
    return int(await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"'))


async def test_a_complete_replay_writes_feed_rows_per_batch_and_the_rest_once(
    conn: asyncpg.Connection,
) -> None:
    log = list(synthetic_log(4, seed=34))
    middle = len(log) // 2
    new = await create_generation(conn)
    working_set = WorkingSet(complete=True, max_rows=1_000_000)
    held = HeldRows()

    for batch in (records(log[:middle]), records(log[middle:], middle)):
        async with conn.transaction():
            await apply_records(
                conn, new.schema, GROUP, batch, notify=False, working_set=working_set, held=held
            )
    before = {t: await count(conn, new.schema, t) for t in ("assets", "lecture_event_feed")}
    async with conn.transaction():
        await held.write(conn, new.schema)

    assert before["assets"] == 0
    assert before["lecture_event_feed"] == len(expected_rows(log)["lecture_event_feed"])
    assert not held
    assert await stored_rows(conn, new.schema) == expected_rows(log)


async def test_rows_held_back_are_written_before_a_batch_loads_rows(
    conn: asyncpg.Connection,
) -> None:
    log = list(synthetic_log(4, seed=35))
    middle = len(log) // 2
    new = await create_generation(conn)
    working_set = WorkingSet(complete=True, max_rows=1)  # outgrown by the first batch
    held = HeldRows()

    for batch in (records(log[:middle]), records(log[middle:], middle)):
        async with conn.transaction():
            await apply_records(
                conn, new.schema, GROUP, batch, notify=False, working_set=working_set, held=held
            )

    assert not working_set.complete
    assert not held  # written before the second batch loaded the rows it needed
    assert await stored_rows(conn, new.schema) == expected_rows(log)


async def test_a_row_held_back_that_postgresql_cannot_store_is_a_held_rows_error(
    conn: asyncpg.Connection,
) -> None:
    poison = LectureCreated(
        lecture_id="poisoned", title="nul \x00 in the title", duration_s=1, segments=(), assets=()
    )
    new = await create_generation(conn)
    held = HeldRows()
    async with conn.transaction():
        await apply_records(
            conn,
            new.schema,
            GROUP,
            records([envelop(poison, "test")]),
            notify=False,
            working_set=WorkingSet(complete=True, max_rows=1_000_000),
            held=held,
        )

    with pytest.raises(HeldRowsError, match="cannot be stored"):
        async with conn.transaction():
            await held.write(conn, new.schema)
