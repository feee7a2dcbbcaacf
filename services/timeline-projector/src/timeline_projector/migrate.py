"""Runs the versioned SQL migrations at start, once, whoever starts first.

Everything happens in one transaction holding an advisory lock, so two projectors (or a
projector and a rebuild) starting together never race; the `schema_migrations` ledger makes
a second run a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

from timeline_projector import generations
from timeline_projector.generations import Generation
from timeline_projector.sql import META_SCHEMA, MIGRATION_LOCK, SWITCH_LOCK, Connection, ident

log = logging.getLogger(__name__)

_BOOTSTRAP = f"""
CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.schema_migrations (
    schema_name text NOT NULL,
    version     text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, version)
);
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file; `version` is its file name without `.sql`, applied in name order."""

    version: str
    sql: str


def load(kind: str) -> tuple[Migration, ...]:
    """The migrations of `kind` (`meta` or `projection`), in order."""
    folder = resources.files("timeline_projector.migrations").joinpath(kind)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return tuple(Migration(f.name.removesuffix(".sql"), f.read_text("utf-8")) for f in files)


async def migrate(conn: Connection) -> Generation:
    """Bring the meta schema and the current generation up to date (creating generation 1 on
    the very first start) and make sure the read views exist; return the current generation."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        # Not while a rebuild switches generations: the pointer read below must stay true.
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", SWITCH_LOCK)
        await conn.execute(_BOOTSTRAP)
        await apply(conn, META_SCHEMA, load("meta"))
        current = await generations.current(conn)
        if current is None:
            current = await generations.allocate(conn, state="live")
            await apply(conn, current.schema, load("projection"), scoped=True)
            await generations.make_current(conn, current)
            log.info("created the first projection generation", extra={"schema": current.schema})
        else:
            await apply(conn, current.schema, load("projection"), scoped=True)
            await generations.point_views_at(conn, current)
        return current


async def create_generation(conn: Connection, state: str = "building") -> Generation:
    """A new, empty generation with every projection migration applied (not current yet)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        generation = await generations.allocate(conn, state=state)
        await apply(conn, generation.schema, load("projection"), scoped=True)
        return generation


async def apply(
    conn: Connection, schema: str, migrations: tuple[Migration, ...], scoped: bool = False
) -> list[str]:
    """Apply the migrations `schema` has not had yet; with `scoped`, unqualified names in the
    SQL resolve to `schema`. Return the versions applied."""
    done = {
        row["version"]
        for row in await conn.fetch(
            f"SELECT version FROM {META_SCHEMA}.schema_migrations WHERE schema_name = $1", schema
        )
    }
    applied: list[str] = []
    for migration in migrations:
        if migration.version in done:
            continue
        if scoped:
            await conn.execute(f"SET LOCAL search_path TO {ident(schema)}")
        await conn.execute(migration.sql)
        await conn.execute("SET LOCAL search_path TO DEFAULT")
        await conn.execute(
            f"INSERT INTO {META_SCHEMA}.schema_migrations (schema_name, version) VALUES ($1, $2)",
            schema,
            migration.version,
        )
        applied.append(migration.version)
        log.info("applied migration", extra={"schema": schema, "version": migration.version})
    return applied
