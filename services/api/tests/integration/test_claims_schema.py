"""The API's schema is made by its migrations, and a claims table made by the API before it
had migrations is adopted as it is, claims and all."""

from __future__ import annotations

import asyncpg
import pytest

from api.claims import Claims, KeyTakenError

pytestmark = pytest.mark.integration

_FIRST_VERSION = """
CREATE SCHEMA lecturegen_api;
CREATE TABLE lecturegen_api.regenerations (
    asset_id       text        NOT NULL,
    prompt_version integer     NOT NULL,
    event_id       text        NOT NULL,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    abandoned      boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (asset_id, prompt_version)
);
INSERT INTO lecturegen_api.regenerations (asset_id, prompt_version, event_id)
VALUES ('kept', 2, 'e-old');
"""


async def test_a_claims_table_of_the_first_version_is_adopted_with_its_claims(
    pg_database: str,
) -> None:
    pool = await asyncpg.create_pool(pg_database, min_size=1, max_size=2)
    try:
        await pool.execute(_FIRST_VERSION)
        claims = Claims(pool)
        await claims.create_schema()
        await claims.create_schema()  # a second start changes nothing

        kept = await claims.latest("kept")
        await claims.claim("a1", 2, "e1", command_key="k1")
        with pytest.raises(KeyTakenError):
            await claims.claim("a2", 2, "e2", command_key="k1")
        ledger = await pool.fetch(
            "SELECT version FROM lecturegen_meta.schema_migrations "
            "WHERE schema_name = 'lecturegen_api'"
        )
    finally:
        await pool.close()

    assert kept is not None
    assert kept.prompt_version == 2
    assert [row["version"] for row in ledger] == ["0001_regenerations"]
