"""The read model's definitions (`shared.read_model`) against the database the projector's
migrations make: a column added to one but not the other fails here, not in production."""

from __future__ import annotations

import asyncpg
import pytest

from shared.read_model.tables import READ_SCHEMA, TABLES
from timeline_projector.migrate import migrate

pytestmark = pytest.mark.integration

_COLUMNS = """
SELECT column_name, udt_name, is_nullable = 'YES' AS nullable
FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
ORDER BY ordinal_position
"""
_PRIMARY_KEY = """
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = $1::regclass AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)
"""


async def test_every_table_and_view_has_exactly_the_read_models_columns_types_and_keys(
    pg_database: str,
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        generation = await migrate(conn)
        found = {
            (schema, table.name): await conn.fetch(_COLUMNS, schema, table.name)
            for table in TABLES
            for schema in (generation.schema, READ_SCHEMA)
        }
        keys = {
            table.name: await conn.fetch(_PRIMARY_KEY, table.qualified(generation.schema))
            for table in TABLES
        }
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            generation.schema,
        )
    finally:
        await conn.close()

    assert {row["table_name"] for row in tables} == {table.name for table in TABLES}
    for table in TABLES:
        expected = [(c.name, c.pg_type) for c in table.columns]
        for schema in (generation.schema, READ_SCHEMA):
            columns = found[(schema, table.name)]
            assert [(r["column_name"], r["udt_name"]) for r in columns] == expected, schema
        stored = found[(generation.schema, table.name)]
        assert [r["nullable"] for r in stored] == [c.nullable for c in table.columns], table.name
        assert tuple(r["attname"] for r in keys[table.name]) == table.key, table.name
