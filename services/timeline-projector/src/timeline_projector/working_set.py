"""The rows of a generation kept in memory across batches by its only writer: a rebuild.

A rebuild replays the log into a generation it created empty, and nothing else writes there
until the switch. So it need not read back what it wrote: the working set holds every row its
committed batches wrote, and while it holds them all ("complete"), a row it does not hold does
not exist. Past `max_rows` it forgets everything and from then on loads the rows a batch needs
and does not hold, as the live projector does for every batch.

A batch folds its events over a `BatchState` whose base is this working set, and `keep`s its
writes only once they are written; a batch that fails leaves the working set as it was. (A
transaction that rolls back after `keep` makes the working set wrong: a rebuild then stops.)
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.envelope import Envelope
from shared.postgres import Connection
from timeline_projector import store
from timeline_projector.batch_state import BatchState, Needs, Rows, Writes, needs


class WorkingSet:
    """Rows of one generation known to be stored, by key."""

    def __init__(self, *, complete: bool, max_rows: int) -> None:
        self.rows = Rows()
        self.complete = complete
        """Every stored row is held (the generation was empty and only this wrote to it)."""
        self.max_rows = max_rows
        self.loads = 0
        """Batches that had to read rows from the database."""

    async def state(
        self, conn: Connection, schema: str, envelopes: Iterable[Envelope]
    ) -> BatchState:
        """A `BatchState` for folding `envelopes`, over every row they may read.

        The batch keeps the rows it started from, with what it loaded added: while it loads,
        another worker's `keep` may start `rows` afresh, and those would lack the rows this
        batch found held (its lectures' feed counters among them). The partitions of parallel
        workers hold disjoint lectures, so what this batch holds stays true meanwhile.
        """
        rows = self.rows
        if not self.complete:
            missing = self._missing(rows, needs(envelopes))
            _add(rows, await store.load_rows(conn, schema, missing))
            self.loads += 1
        return BatchState(base=rows)

    def keep(self, writes: Writes) -> None:
        """Take in what a batch wrote (call it once the batch is written)."""
        rows = self.rows
        rows.lectures.update(writes.lectures)
        rows.assets.update(writes.assets)
        rows.attempts.update(writes.attempts)
        rows.last_seqs.update(writes.last_seqs)
        rows.seen.update(feed.event_id for feed in writes.feed)
        if self.size() > self.max_rows:
            self.rows = Rows()
            self.complete = False

    def size(self) -> int:
        rows = self.rows
        return (
            len(rows.lectures)
            + len(rows.assets)
            + len(rows.attempts)
            + len(rows.last_seqs)
            + len(rows.seen)
        )

    @staticmethod
    def _missing(rows: Rows, wanted: Needs) -> Needs:
        return Needs(
            lecture_ids={
                i for i in wanted.lecture_ids if i not in rows.lectures or i not in rows.last_seqs
            },
            asset_ids={i for i in wanted.asset_ids if i not in rows.assets},
            attempt_keys={k for k in wanted.attempt_keys if k not in rows.attempts},
            event_ids={i for i in wanted.event_ids if i not in rows.seen},
        )


def _add(rows: Rows, loaded: Rows) -> None:
    rows.lectures.update(loaded.lectures)
    rows.assets.update(loaded.assets)
    rows.attempts.update(loaded.attempts)
    rows.last_seqs.update(loaded.last_seqs)
    rows.seen.update(loaded.seen)
