"""The API's own table, in its own schema (`migrations/`): regeneration claims, one row per
(asset, version) it accepted.

A claim is written before the regeneration event is produced; the primary key makes two
concurrent requests for the same version collide, so only one of them produces an event.
A claim may carry the client's `Idempotency-Key` (`command_key`), unique too: the same key
again answers with the claim it made instead of a new version (decision 0013).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from api.regeneration import RegenerationClaim
from shared import migrations
from shared.migrations import ServiceSchema

SCHEMA = ServiceSchema("lecturegen_api", "api.migrations")
"""The API's own schema and its migrations."""
_TABLE = f"{SCHEMA.name}.regenerations"


class VersionTakenError(Exception):
    """Another request claimed this version first."""


class KeyTakenError(Exception):
    """Another request with the same idempotency key claimed first."""


@dataclass(frozen=True, slots=True)
class KeyedClaim:
    """The regeneration an idempotency key asked for."""

    asset_id: str
    prompt_version: int
    event_id: str


class Claims:
    """Regeneration claims over one connection pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_schema(self) -> None:
        """Create or migrate the API's schema (safe when several processes start at once)."""
        async with self._pool.acquire() as conn:
            await migrations.migrate(conn, SCHEMA)

    async def latest(self, asset_id: str) -> RegenerationClaim | None:
        row = await self._pool.fetchrow(
            f"SELECT prompt_version, claimed_at, abandoned FROM {_TABLE} "
            f"WHERE asset_id = $1 ORDER BY prompt_version DESC LIMIT 1",
            asset_id,
        )
        if row is None:
            return None
        return RegenerationClaim(row["prompt_version"], row["claimed_at"], row["abandoned"])

    async def by_key(self, command_key: str) -> KeyedClaim | None:
        """The live claim made with `command_key`, if any."""
        row = await self._pool.fetchrow(
            f"SELECT asset_id, prompt_version, event_id FROM {_TABLE} WHERE command_key = $1",
            command_key,
        )
        if row is None:
            return None
        return KeyedClaim(row["asset_id"], row["prompt_version"], row["event_id"])

    async def claim(
        self, asset_id: str, prompt_version: int, event_id: str, command_key: str | None = None
    ) -> None:
        try:
            await self._pool.execute(
                f"INSERT INTO {_TABLE} "
                f"(asset_id, prompt_version, event_id, command_key) VALUES ($1, $2, $3, $4)",
                asset_id,
                prompt_version,
                event_id,
                command_key,
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "regenerations_command_key":
                raise KeyTakenError(str(command_key)) from exc
            raise VersionTakenError(f"{asset_id} v{prompt_version}") from exc

    async def abandon(self, asset_id: str, prompt_version: int) -> None:
        """Mark a claim whose event may not have been produced: it stops blocking new
        regenerations, but its version stays used (the event may exist after all)."""
        await self._pool.execute(
            # Its key is freed too: the same request again may then try again.
            f"UPDATE {_TABLE} SET abandoned = true, command_key = NULL "
            f"WHERE asset_id = $1 AND prompt_version = $2",
            asset_id,
            prompt_version,
        )
