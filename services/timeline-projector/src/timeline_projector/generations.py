"""Projection generations: create one, point the read views at one, retire and drop old ones.

Each generation is a schema `lecturegen_g<N>` with the full set of tables. Readers only use
the views of `lecturegen_read`, which `point_views_at` re-points with `CREATE OR REPLACE VIEW`
(same columns, same view identity), so a switch is one transaction and invisible to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from timeline_projector.sql import (
    GENERATION_CHANNEL,
    META_SCHEMA,
    READ_SCHEMA,
    Connection,
    generation_schema,
    ident,
)

TABLES: tuple[str, ...] = (
    "lectures",
    "segments",
    "assets",
    "asset_attempts",
    "lecture_event_feed",
    "lecture_feed_counters",
    "projector_offsets",
    "projector_rejected_events",
)
"""Every table of a generation; each has a view of the same name in `lecturegen_read`."""


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

    Call it inside a transaction that holds `MIGRATION_LOCK`.
    """
    number = await conn.fetchval(
        f"SELECT coalesce(max(generation), 0) + 1 FROM {META_SCHEMA}.projection_generations"
    )
    generation = Generation.numbered(int(number))
    await conn.execute(f"DROP SCHEMA IF EXISTS {ident(generation.schema)} CASCADE")
    await conn.execute(f"CREATE SCHEMA {ident(generation.schema)}")
    await conn.execute(
        f"DELETE FROM {META_SCHEMA}.schema_migrations WHERE schema_name = $1", generation.schema
    )
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
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {READ_SCHEMA}")
    for table in TABLES:
        await conn.execute(
            f"CREATE OR REPLACE VIEW {READ_SCHEMA}.{ident(table)} AS "
            f"SELECT * FROM {ident(generation.schema)}.{ident(table)}"
        )
    await conn.execute(
        f"CREATE OR REPLACE VIEW {READ_SCHEMA}.current_generation AS "
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
    `REBUILD_LOCK`: a generation still `building` then belongs to a rebuild that died)."""
    rows = await conn.fetch(
        f"SELECT generation, schema_name FROM {META_SCHEMA}.projection_generations "
        "WHERE state NOT IN ('live', 'dropped', 'discarded') AND NOT (generation = ANY($1))",
        sorted(keep),
    )
    dropped = [Generation(row["generation"], row["schema_name"]) for row in rows]
    for generation in dropped:
        await drop(conn, generation)
    return dropped
