"""Runs the projector's versioned SQL migrations at start, once, whoever starts first.

The runner is `shared.migrations` (one for every service): everything happens in one
transaction holding the migration lock, and the ledger makes a second run a no-op. The
projector has two kinds: `meta/` for its bookkeeping schema (`lecturegen_meta`) and
`projection/` for the tables of each projection generation.
"""

from __future__ import annotations

import logging

from shared import migrations
from shared.advisory_locks import PROJECTION_SWITCH
from shared.migrations import Migration
from shared.postgres import Connection
from timeline_projector import generations
from timeline_projector.generations import Generation
from timeline_projector.sql import META_SCHEMA

log = logging.getLogger(__name__)


def load(kind: str) -> tuple[Migration, ...]:
    """The migrations of `kind` (`meta` or `projection`), in order."""
    return migrations.load("timeline_projector.migrations", kind)


async def migrate(conn: Connection) -> Generation:
    """Bring the meta schema and the current generation up to date (creating generation 1 on
    the very first start) and make sure the read views exist; return the current generation."""
    async with conn.transaction():
        await migrations.lock(conn)
        # Not while a rebuild switches generations: the pointer read below must stay true.
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", PROJECTION_SWITCH)
        await migrations.apply(conn, META_SCHEMA, load("meta"))
        current = await generations.current(conn)
        if current is None:
            current = await generations.allocate(conn, state="live")
            await migrations.apply(conn, current.schema, load("projection"), scoped=True)
            await generations.make_current(conn, current)
            log.info("created the first projection generation", extra={"schema": current.schema})
        else:
            await migrations.apply(conn, current.schema, load("projection"), scoped=True)
            await generations.point_views_at(conn, current)
        return current


async def create_generation(conn: Connection, state: str = "building") -> Generation:
    """A new, empty generation with every projection migration applied (not current yet)."""
    async with conn.transaction():
        await migrations.lock(conn)
        generation = await generations.allocate(conn, state=state)
        await migrations.apply(conn, generation.schema, load("projection"), scoped=True)
        return generation
