"""Which offset of a partition may be committed while many of its messages are in flight."""

from __future__ import annotations


class OffsetTracker:
    """Tracks the offsets of one partition from receipt until they are done.

    Messages finish out of order (many provider calls run at once), but a Kafka commit says
    "everything below this offset is done". So the committable offset is the lowest offset
    received and not yet done, or one past the last received when all are done: the
    tracker never lets a commit pass an unfinished message.
    """

    def __init__(self, committed: int | None = None) -> None:
        self._pending: set[int] = set()
        self._next: int | None = committed
        """One past the highest offset received (where the commit goes when all are done)."""
        self._committed: int | None = committed

    def received(self, offset: int) -> None:
        """A message at `offset` was taken from Kafka; it is unfinished until `done`."""
        self._pending.add(offset)
        if self._next is None or offset >= self._next:
            self._next = offset + 1

    def done(self, offset: int) -> None:
        """The message at `offset` is finished: its outcome is durable."""
        self._pending.discard(offset)

    @property
    def watermark(self) -> int | None:
        """The offset a commit may name now: everything below it is done."""
        if self._pending:
            return min(self._pending)
        return self._next

    @property
    def next_offset(self) -> int | None:
        """One past the highest offset received: where fetching continues."""
        return self._next

    @property
    def in_progress(self) -> int:
        """How many received messages are not done yet."""
        return len(self._pending)

    def to_commit(self) -> int | None:
        """The watermark when it moved past the last committed offset, else None."""
        mark = self.watermark
        if mark is None or (self._committed is not None and mark <= self._committed):
            return None
        return mark

    def committed(self, offset: int) -> None:
        """Kafka acknowledged a commit of `offset`."""
        if self._committed is None or offset > self._committed:
            self._committed = offset

    @property
    def last_committed(self) -> int | None:
        return self._committed
