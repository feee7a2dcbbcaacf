"""The records of one assigned partition between fetch and commit, and when to pause it.

The runtime keeps every record it has fetched in the partition's own buffer until it starts,
so pausing a partition (which makes the Kafka client drop what it prefetched and fetch again
from its position on resume) never skips or repeats a record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime

from shared.kafka.records import Record
from shared.retry import RetryPolicy
from shared.worker.offsets import OffsetTracker
from shared.worker.tiers import HeadAction, Hop, Run, Wait, head_action


class PartitionQueue:
    """Fetched records of one partition, in offset order, and the offsets not yet done.

    Request partitions hand out records as fast as there is room; a tier partition hands out
    its head only once it is due (`tier_ms` set)."""

    def __init__(
        self,
        topic: str,
        partition: int,
        tier_ms: int | None,
        policy: RetryPolicy,
        committed: int | None = None,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.tier_ms = tier_ms
        self._policy = policy
        self._buffer: deque[Record] = deque()
        self.offsets = OffsetTracker(committed)

    def add(self, records: Iterable[Record]) -> None:
        for record in records:
            self._buffer.append(record)
            self.offsets.received(record.offset)

    def put_back(self, record: Record) -> None:
        """A record handed out by `take` that did not start after all: it goes back into the
        buffer at its place (its offset is still not done)."""
        at = 0
        while at < len(self._buffer) and self._buffer[at].offset < record.offset:
            at += 1
        self._buffer.insert(at, record)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def take(self, now: datetime, limit: int) -> list[tuple[Record, Run | Hop]]:
        """Up to `limit` records that may start now, in order, removed from the buffer."""
        taken: list[tuple[Record, Run | Hop]] = []
        while self._buffer and len(taken) < limit:
            action = self._action(self._buffer[0], now)
            if isinstance(action, Wait):
                break
            taken.append((self._buffer.popleft(), action))
        return taken

    def wake_at(self, now: datetime) -> datetime | None:
        """When the head of a tier partition becomes due, if it is waiting."""
        if not self._buffer:
            return None
        action = self._action(self._buffer[0], now)
        return action.until if isinstance(action, Wait) else None

    def wants_pause(self, now: datetime, max_buffered: int) -> bool:
        """Whether fetching should stop: the head is waiting for its due time (nothing behind
        it can start earlier), or enough records are held already, waiting for a free slot
        or running (a turn past its provider call holds no slot, so without this bound a fast
        provider would let them pile up)."""
        return self.wake_at(now) is not None or self.offsets.in_progress >= max_buffered

    def _action(self, record: Record, now: datetime) -> HeadAction:
        if self.tier_ms is None:
            return Run()
        return head_action(record, self.tier_ms, self._policy, now)
