"""The feed's two indexes in a generation a rebuild replays into: built once, not row by row.

Every event the views keep appends a feed row, and each row costs an insertion into two
b-trees (its primary key `(lecture_id, seq)` and its unique `event_id`): about a third of
PostgreSQL's time in a replay. While the replayer's working set is complete nothing reads
the feed of the new generation (the working set answers every question a reducer asks of
it, and no reader sees the generation before the switch), so a rebuild `drop`s the two
constraints from the new, empty generation and `restore`s them, each built in one sorted
pass, before anything may read the feed: when the replay ends, or as soon as a working set
stops being complete (it then loads rows, the feed's event ids among them). A duplicate the
constraints would have refused makes the rebuild fail at `restore` instead of at the row.
"""

from __future__ import annotations

from shared.advisory_locks import PROJECTION_FEED_INDEXES
from shared.postgres import Connection, ident
from shared.read_model.tables import FEED

CONSTRAINTS: dict[str, str] = {
    "lecture_event_feed_pkey": "PRIMARY KEY (lecture_id, seq)",
    "lecture_event_feed_event_id_key": "UNIQUE (event_id)",
}
"""The feed's constraints as the projection migrations make them (a test holds the two in
step), by name."""


async def present(conn: Connection, schema: str) -> set[str]:
    """The names of the feed's constraints of `CONSTRAINTS` that `schema` has."""
    rows = await conn.fetch(
        "SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass",
        FEED.qualified(schema),
    )
    return {row["conname"] for row in rows} & set(CONSTRAINTS)


async def drop(conn: Connection, schema: str) -> None:
    """Drop the feed's constraints (with their indexes) from `schema`."""
    for name in CONSTRAINTS:
        await conn.execute(
            f"ALTER TABLE {FEED.qualified(schema)} DROP CONSTRAINT IF EXISTS {ident(name)}"
        )


async def restore(conn: Connection, schema: str) -> None:
    """Add back those of the feed's constraints that `schema` lacks. Replay processes may
    call it at once: they take turns, and whoever comes second finds nothing to do."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PROJECTION_FEED_INDEXES)
        have = await present(conn, schema)
        for name, definition in CONSTRAINTS.items():
            if name not in have:
                await conn.execute(
                    f"ALTER TABLE {FEED.qualified(schema)} ADD CONSTRAINT {ident(name)} "
                    f"{definition}"
                )
