"""Versioned plain-SQL migrations, one runner for every service's tables.

Each service owns one schema (`ServiceSchema`) and a folder of numbered `.sql` files that
create and change its tables; the files run with `search_path` set to the schema, so they
name their tables unqualified. The ledger `lecturegen_meta.schema_migrations` records what
each schema has had, so a second run is a no-op; everything happens in one transaction
holding `advisory_locks.MIGRATION`, so processes starting together (of one service or of
several) never race.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

from shared import advisory_locks
from shared.postgres import Connection, ident

log = logging.getLogger(__name__)

LEDGER_SCHEMA = "lecturegen_meta"
"""The schema of the migration ledger (and of the projector's generation bookkeeping)."""

_LEDGER = f"""
CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA};
CREATE TABLE IF NOT EXISTS {LEDGER_SCHEMA}.schema_migrations (
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


@dataclass(frozen=True, slots=True)
class ServiceSchema:
    """A service's own schema and the package folder that holds its migrations."""

    name: str
    package: str
    """The package whose `.sql` files are the migrations, e.g. `api.migrations`."""

    def migrations(self) -> tuple[Migration, ...]:
        return load(self.package)


def load(package: str, folder: str = "") -> tuple[Migration, ...]:
    """The migrations in `package` (or its sub-folder `folder`), in name order."""
    root = resources.files(package)
    if folder:
        root = root.joinpath(folder)
    files = sorted((f for f in root.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return tuple(Migration(f.name.removesuffix(".sql"), f.read_text("utf-8")) for f in files)


async def migrate(conn: Connection, schema: ServiceSchema) -> list[str]:
    """Create `schema` if it is missing and apply the migrations it has not had yet, in one
    transaction under the migration lock; return the versions applied."""
    async with conn.transaction():
        await lock(conn)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema.name)}")
        return await apply(conn, schema.name, schema.migrations(), scoped=True)


async def lock(conn: Connection) -> None:
    """Take the migration lock for the current transaction and make sure the ledger exists."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_locks.MIGRATION)
    await conn.execute(_LEDGER)


async def apply(
    conn: Connection, schema: str, migrations: tuple[Migration, ...], scoped: bool = False
) -> list[str]:
    """Apply the migrations `schema` has not had yet; with `scoped`, unqualified names in the
    SQL resolve to `schema`. Return the versions applied.

    Call it inside a transaction that holds the migration lock (`lock`)."""
    done = {
        row["version"]
        for row in await conn.fetch(
            f"SELECT version FROM {LEDGER_SCHEMA}.schema_migrations WHERE schema_name = $1",
            schema,
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
            f"INSERT INTO {LEDGER_SCHEMA}.schema_migrations (schema_name, version) VALUES ($1, $2)",
            schema,
            migration.version,
        )
        applied.append(migration.version)
        log.info("applied migration", extra={"schema": schema, "version": migration.version})
    return applied


async def forget(conn: Connection, schema: str) -> None:
    """Drop the ledger's record of `schema` (its schema was dropped and will be made anew)."""
    await conn.execute(
        f"DELETE FROM {LEDGER_SCHEMA}.schema_migrations WHERE schema_name = $1", schema
    )
