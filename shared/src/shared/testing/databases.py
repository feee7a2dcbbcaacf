"""Throwaway PostgreSQL databases, one per test, so tests never see each other's rows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.testing.infra import with_database

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@asynccontextmanager
async def fresh_database(server_dsn: str, name: str) -> AsyncIterator[str]:
    """Create database ``name`` on the server of ``server_dsn``, yield its DSN, then drop it.

    The drop ends connections a test left open, so a leak cannot block the next test.
    """
    if not _SAFE_NAME.match(name):
        raise ValueError(f"{name!r} is not a plain lower-case PostgreSQL identifier")
    await _execute(server_dsn, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_dsn, name)
    finally:
        await _drop(server_dsn, name)


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _drop(server_dsn: str, name: str) -> None:
    """End this role's connections to ``name``, then drop it.

    Not ``DROP DATABASE ... WITH (FORCE)``: that also tries to end an autovacuum worker busy in
    the database and fails for a role that is neither a superuser nor in pg_signal_backend,
    whereas a plain ``DROP DATABASE`` stops autovacuum there by itself (and waits a few seconds
    for the ended connections to go).
    """
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()",
            name,
        )
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()
