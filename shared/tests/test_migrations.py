"""The one migration runner: a service's schema made once, whoever starts first."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared import migrations
from shared.migrations import load
from shared.worker.postgres_versions import SCHEMA as WORKER_SCHEMA

pytestmark = pytest.mark.integration


def test_migrations_load_in_name_order_with_their_file_name_as_version() -> None:
    versions = [m.version for m in load(WORKER_SCHEMA.package)]

    assert versions == sorted(versions)
    assert versions[0] == "0001_asset_versions"


async def test_processes_starting_together_migrate_a_schema_once(pg_database: str) -> None:
    conns = [await asyncpg.connect(pg_database) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrations.migrate(c, WORKER_SCHEMA) for c in conns))
        again = await migrations.migrate(conns[0], WORKER_SCHEMA)
        ledger = await conns[0].fetch(
            "SELECT schema_name, version FROM lecturegen_meta.schema_migrations"
        )
        found = await conns[0].fetch(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'asset_versions'"
        )
        path = await conns[0].fetchval("SHOW search_path")
    finally:
        for conn in conns:
            await conn.close()

    everything = [m.version for m in WORKER_SCHEMA.migrations()]
    assert sorted(applied, key=len) == [[], [], everything]
    assert again == []
    assert [tuple(row) for row in ledger] == [("lecturegen_worker", v) for v in everything]
    assert [row["table_schema"] for row in found] == ["lecturegen_worker"]
    assert path == '"$user", public'  # the schema's search_path ended with its transaction
