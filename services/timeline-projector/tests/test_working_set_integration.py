"""The rebuild's working set against a real generation schema."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.events import AssetEvent
from timeline_projector.batch_state import Writes
from timeline_projector.migrate import migrate
from timeline_projector.synthetic import synthetic_log
from timeline_projector.working_set import WorkingSet

pytestmark = pytest.mark.integration


async def test_a_batch_keeps_the_rows_it_holds_when_another_worker_starts_the_set_afresh(
    pg_database: str,
) -> None:
    event = next(e for e in synthetic_log(1, seed=31) if isinstance(e.payload, AssetEvent))
    assert isinstance(event.payload, AssetEvent)
    lecture_id = event.payload.lecture_id
    conn = await asyncpg.connect(pg_database)
    try:
        generation = await migrate(conn)
        working_set = WorkingSet(complete=False, max_rows=2)
        working_set.keep(Writes(last_seqs={lecture_id: 7}))  # from this worker's last batch

        loading = asyncio.create_task(working_set.state(conn, generation.schema, [event]))
        await asyncio.sleep(0)  # the batch now waits for the rows it does not hold
        working_set.keep(Writes(last_seqs={"other-1": 1, "other-2": 1}))  # another worker's
        state = await loading
    finally:
        await conn.close()

    assert working_set.rows.last_seqs == {}  # started afresh meanwhile
    assert state.last_seq(lecture_id) == 7
