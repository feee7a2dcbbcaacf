"""Rows a rebuild's replay holds back and writes once, not once per batch that changes them.

An asset's events are spread over the log, so a replay in batches of 10,000 records wrote
each asset row about twice, the second time merged over the first (PostgreSQL's largest part
of a replay). While its working set is complete (decision 0034), a replay keeps the rows
that later batches may change again (lectures, assets, attempts, feed counters) and writes
each batch's feed and segment rows only; the rows held back are written once it ends, or
before a batch that loads rows (the working set has stopped being complete) — by each
replay worker for its own partitions, whose lectures no other worker touches.

A batch learns that PostgreSQL cannot store one of its rows (a NUL character, an
out-of-range number) when it writes them, and then rejects the one event that made the row.
Held back, the row fails long after its batch: `HeldRowsError`, on which the rebuild
replays again into a fresh generation, writing every batch's rows as it goes.
"""

from __future__ import annotations

import asyncpg

from shared.postgres import Connection
from timeline_projector import store
from timeline_projector.batch_state import Writes


class HeldRowsError(RuntimeError):
    """Rows held back could not be stored; the event that made them is not known any more."""


class HeldRows:
    """The rows one replay worker holds back, the latest of each key."""

    def __init__(self) -> None:
        self.rows = Writes()

    def __bool__(self) -> bool:
        rows = self.rows
        return bool(rows.lectures or rows.assets or rows.attempts or rows.last_seqs)

    @staticmethod
    def written_now(writes: Writes) -> Writes:
        """What of a batch's `writes` is written with the batch: its feed and segment rows,
        which no later batch writes again."""
        return Writes(segments=writes.segments, feed=writes.feed)

    def hold(self, writes: Writes) -> None:
        """Keep the rest of a batch's `writes` (call it once the batch is written)."""
        rows = self.rows
        rows.lectures.update(writes.lectures)
        rows.assets.update(writes.assets)
        rows.attempts.update(writes.attempts)
        rows.last_seqs.update(writes.last_seqs)

    def put_back(self, taken: Writes) -> None:
        """Hold `taken` again, under what was held since (a write of it was rolled back)."""
        taken.lectures.update(self.rows.lectures)
        taken.assets.update(self.rows.assets)
        taken.attempts.update(self.rows.attempts)
        taken.last_seqs.update(self.rows.last_seqs)
        self.rows = taken

    async def write(self, conn: Connection, schema: str) -> Writes:
        """Write every row held and stop holding them; return them. None of them is stored
        yet (a worker holds rows only while its working set is complete, and writes them only
        here), so they are appended, not merged."""
        taken, self.rows = self.rows, Writes()
        try:
            await store.insert_new(conn, schema, taken)
        except asyncpg.DataError as exc:
            raise HeldRowsError(f"a row held back cannot be stored: {exc}") from exc
        return taken
