"""Names in SQL: the fixed schemas, identifier quoting and the advisory lock keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection of its own or one borrowed from a pool: the SQL functions take either."""

META_SCHEMA = "lecturegen_meta"
READ_SCHEMA = "lecturegen_read"
GENERATION_PREFIX = "lecturegen_g"

MIGRATION_LOCK = 7_301_042_001
"""Held (transaction-scoped) while migrating or creating a generation."""
SWITCH_LOCK = 7_301_042_002
"""Every live batch holds it shared; a rebuild takes it exclusively to verify and switch."""

REBUILD_LOCK = 7_301_042_003
"""Held (session-scoped) by a running rebuild: one rebuild at a time."""

EVENTS_CHANNEL = "lecturegen_events"
GENERATION_CHANNEL = "lecturegen_generation"


def ident(name: str) -> str:
    """`name` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def generation_schema(number: int) -> str:
    """The schema that holds projection generation `number`."""
    return f"{GENERATION_PREFIX}{number}"


NO_SYNC = {"synchronous_commit": "off"}
"""Session settings of the connections a rebuild writes a new generation with: a commit does
not wait for its WAL to reach the disk. Nothing reads that generation before the rebuild's
own switch commits, which comes later in the WAL, so a crash loses a part the rebuild would
redo anyway, never a part a reader saw."""
