"""The feed's indexes, dropped from a new generation and built once its replay needs them."""

from __future__ import annotations

import asyncpg
import pytest

from timeline_projector import feed_indexes
from timeline_projector.config import Settings
from timeline_projector.migrate import create_generation, migrate
from timeline_projector.rebuild import Replayer, no_progress
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import Projection, make_settings

pytestmark = pytest.mark.integration

CONSTRAINTS_SQL = (
    "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
    "WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname"
)
INDEXES_SQL = (
    "SELECT indexname, replace(indexdef, $1, 'g') AS definition FROM pg_indexes "
    "WHERE schemaname = $1 AND tablename = 'lecture_event_feed' ORDER BY indexname"
)


def rows(records: list[asyncpg.Record]) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in records]


async def test_the_feed_constraints_restored_are_those_the_migrations_make(
    pg_database: str,
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        live = await migrate(conn)
        new = await create_generation(conn)
        migrated = rows(await conn.fetch(CONSTRAINTS_SQL, f"{live.schema}.lecture_event_feed"))

        await feed_indexes.drop(conn, new.schema)
        dropped = await feed_indexes.present(conn, new.schema)
        await feed_indexes.restore(conn, new.schema)
        await feed_indexes.restore(conn, new.schema)  # a second call finds nothing to do

        restored = rows(await conn.fetch(CONSTRAINTS_SQL, f"{new.schema}.lecture_event_feed"))
        indexes = rows(await conn.fetch(INDEXES_SQL, new.schema))
        live_indexes = rows(await conn.fetch(INDEXES_SQL, live.schema))
    finally:
        await conn.close()

    assert dropped == set()
    assert migrated == sorted(feed_indexes.CONSTRAINTS.items())
    assert restored == migrated
    assert indexes == live_indexes


async def replay_unindexed(settings: Settings) -> set[str]:
    """Replay the log into a new generation without the feed's constraints; those it has
    once the replay is over (before anything else restores them)."""
    conn = await asyncpg.connect(settings.postgres.dsn)
    try:
        await migrate(conn)
        new = await create_generation(conn)
        await feed_indexes.drop(conn, new.schema)
        replayer = Replayer(settings, conn, new.schema, no_progress, None)
        try:
            await replayer.start()
            await replayer.replay_to(await replayer.end_offsets(), processes=False)
        finally:
            await replayer.stop()
        return await feed_indexes.present(conn, new.schema)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("working_set_rows", "indexed"), [(1_000_000, False), (60, True)], ids=["held", "outgrown"]
)
async def test_a_replay_builds_the_feed_indexes_only_once_its_working_set_is_outgrown(
    kafka_bootstrap: str, pg_database: str, unique_name: str, working_set_rows: int, indexed: bool
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_batch_size=40,
        rebuild_working_set_rows=working_set_rows,
    )
    projection = Projection(settings)
    await projection.create_topic()
    await projection.produce(list(synthetic_log(6, seed=33)))

    present = await replay_unindexed(settings)

    assert present == (set(feed_indexes.CONSTRAINTS) if indexed else set())
