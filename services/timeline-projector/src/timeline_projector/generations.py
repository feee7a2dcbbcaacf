"""Projection generations: create one, point the read views at one, retire and drop old ones.

Each generation is a schema `lecturegen_g<N>` with the full set of tables. Readers only use
the views of `lecturegen_read`, which `point_views_at` re-points with `CREATE OR REPLACE VIEW`
(same columns, same view identity), so a switch is one transaction and invisible to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared import migrations
from shared.postgres import Connection, ident
from shared.read_model.notify import GENERATION_CHANNEL
from shared.read_model.tables import CURRENT_GENERATION_VIEW, READ_SCHEMA, TABLES
from timeline_projector.sql import META_SCHEMA, generation_schema


@dataclass(frozen=True, slots=True)
class Generation:
    """One projection generation and the schema that holds it."""

    number: int
    schema: str

    @classmethod
    def numbered(cls, number: int) -> Generation:
        return cls(number, generation_schema(number))


async def current(conn: Connection) -> Generation | None:
    """The generation the read views point at, if there is one yet."""
    row = await conn.fetchrow(
        f"SELECT generation, schema_name FROM {META_SCHEMA}.current_generation"
    )
    return None if row is None else Generation(row["generation"], row["schema_name"])


async def allocate(conn: Connection, state: str) -> Generation:
    """Reserve the next generation number and create its (empty) schema.

    Call it inside a transaction that holds the migration lock (`shared.migrations.lock`).
    """
    number = await conn.fetchval(
        f"SELECT coalesce(max(generation), 0) + 1 FROM {META_SCHEMA}.projection_generations"
    )
    generation = Generation.numbered(int(number))
    await conn.execute(f"DROP SCHEMA IF EXISTS {ident(generation.schema)} CASCADE")
    await conn.execute(f"CREATE SCHEMA {ident(generation.schema)}")
    await migrations.forget(conn, generation.schema)
    await conn.execute(
        f"INSERT INTO {META_SCHEMA}.projection_generations (generation, schema_name, state) "
        "VALUES ($1, $2, $3)",
        generation.number,
        generation.schema,
        state,
    )
    return generation


async def set_state(conn: Connection, generation: Generation, state: str) -> None:
    await conn.execute(
        f"UPDATE {META_SCHEMA}.projection_generations SET state = $2 WHERE generation = $1",
        generation.number,
        state,
    )


async def point_views_at(conn: Connection, generation: Generation) -> None:
    """(Re)create every view of `lecturegen_read` over `generation`'s tables."""
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(READ_SCHEMA)}")
    for table in TABLES:
        await conn.execute(
            f"CREATE OR REPLACE VIEW {table.qualified()} AS "
            f"SELECT * FROM {table.qualified(generation.schema)}"
        )
    await conn.execute(
        f"CREATE OR REPLACE VIEW {ident(READ_SCHEMA)}.{ident(CURRENT_GENERATION_VIEW)} AS "
        f"SELECT generation, schema_name, switched_at FROM {META_SCHEMA}.current_generation"
    )


async def make_current(conn: Connection, generation: Generation) -> None:
    """Point the read model at `generation`: the pointer row, the views, the states, NOTIFY.

    Call it inside a transaction; readers see the switch at commit, all at once.
    """
    await conn.execute(
        f"UPDATE {META_SCHEMA}.projection_generations SET state = 'retired' "
        "WHERE state = 'live' AND generation <> $1",
        generation.number,
    )
    await conn.execute(
        f"UPDATE {META_SCHEMA}.projection_generations SET state = 'live', switched_at = now() "
        "WHERE generation = $1",
        generation.number,
    )
    await conn.execute(
        f"INSERT INTO {META_SCHEMA}.current_generation (singleton, generation, schema_name) "
        "VALUES (true, $1, $2) ON CONFLICT (singleton) DO UPDATE "
        "SET generation = EXCLUDED.generation, schema_name = EXCLUDED.schema_name, "
        "switched_at = now()",
        generation.number,
        generation.schema,
    )
    await point_views_at(conn, generation)
    await conn.execute("SELECT pg_notify($1, $2)", GENERATION_CHANNEL, str(generation.number))


async def drop(conn: Connection, generation: Generation, state: str = "dropped") -> None:
    """Drop a generation's schema and keep its row as history."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {ident(generation.schema)} CASCADE")
    await set_state(conn, generation, state)


async def drop_stale(conn: Connection, keep: set[int]) -> list[Generation]:
    """Drop every generation schema that is not live and not in `keep` (call it while holding
    `PROJECTION_REBUILD`: a generation still `building` then belongs to a rebuild that died)."""
    rows = await conn.fetch(
        f"SELECT generation, schema_name FROM {META_SCHEMA}.projection_generations "
        "WHERE state NOT IN ('live', 'dropped', 'discarded') AND NOT (generation = ANY($1))",
        sorted(keep),
    )
    dropped = [Generation(row["generation"], row["schema_name"]) for row in rows]
    for generation in dropped:
        await drop(conn, generation)
    return dropped
