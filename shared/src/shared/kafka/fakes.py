"""An in-memory stand-in for the consumer port, for unit tests of the consuming loops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord

from shared.kafka.consumer import Fetched
from shared.kafka.records import Outgoing


class InMemoryConsumer:
    """A `Consumer` over in-memory partitions, alone in its group unless a test says otherwise.

    `append` writes records; `getmany` hands them out from each assigned, unpaused
    partition's position, as aiokafka does. The first `getmany` after `start` assigns every
    partition of the subscribed topics; `rebalance(...)` moves the assignment at the next
    `getmany` (revoking everything, then assigning the new set, as an eager rebalance does),
    and a new assignment starts at the group's committed offset. `commits` lists every commit
    in order; `paused` is the set of paused partitions."""

    def __init__(self, partitions: Mapping[str, int]) -> None:
        self._logs: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {
            TopicPartition(topic, p): []
            for topic, count in partitions.items()
            for p in range(count)
        }
        self._listener: ConsumerRebalanceListener | None = None
        self._topics: list[str] = []
        self._assigned: set[TopicPartition] = set()
        self._pending: set[TopicPartition] | None = None
        self._positions: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._changed = asyncio.Event()
        self.paused: set[TopicPartition] = set()
        self.commits: list[dict[TopicPartition, int]] = []
        self.fail_commits = 0
        """How many of the next commits fail as after a rebalance (`CommitFailedError`)."""
        self.started = False
        self.stopped = False

    # --- what a test does -------------------------------------------------------------

    def append(self, record: Outgoing, partition: int = 0, *, at: datetime) -> int:
        """Write `record` to `partition` of its topic, timestamped `at`; its offset."""
        log = self._logs[TopicPartition(record.topic, partition)]
        offset = len(log)
        log.append(
            ConsumerRecord(
                record.topic,
                partition,
                offset,
                int(at.timestamp() * 1000),
                0,
                record.key,
                record.value,
                None,
                len(record.key),
                len(record.value),
                tuple(record.headers),
            )
        )
        self._changed.set()
        return offset

    def rebalance(self, assigned: Iterable[TopicPartition]) -> None:
        """At the next `getmany`, revoke the assignment and assign `assigned` instead."""
        self._pending = set(assigned)
        self._changed.set()

    def committed_offset(self, partition: TopicPartition) -> int | None:
        return self._committed.get(partition)

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    # --- the Consumer port --------------------------------------------------------------

    def subscribe(
        self, topics: Sequence[str], *, listener: ConsumerRebalanceListener | None = None
    ) -> None:
        self._topics = list(topics)
        self._listener = listener

    async def start(self) -> None:
        self.started = True
        self._pending = {tp for tp in self._logs if tp.topic in self._topics}

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(self, *, timeout_ms: int = 0, max_records: int | None = None) -> Fetched:
        if self._pending is None and not self._ready():
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout_ms / 1000)
        if self._pending is not None:
            await self._rebalance(self._pending)
        fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        room = max_records if max_records is not None else 1 << 30
        for tp in sorted(self._assigned - self.paused):
            log, position = self._logs[tp], self._positions[tp]
            taken = log[position : position + room]
            if taken:
                fetched[tp] = taken
                self._positions[tp] = position + len(taken)
                room -= len(taken)
        return fetched

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            raise CommitFailedError("the group rebalanced")
        if not set(offsets) <= self._assigned:
            raise IllegalStateError(f"not assigned: {set(offsets) - self._assigned}")
        self._committed.update(offsets)
        self.commits.append(dict(offsets))

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._committed.get(partition)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)
        self._changed.set()

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._positions[partition] = offset
        self._changed.set()

    # --- inside ---------------------------------------------------------------------------

    def _ready(self) -> bool:
        return any(self._positions[tp] < len(self._logs[tp]) for tp in self._assigned - self.paused)

    async def _rebalance(self, assigned: set[TopicPartition]) -> None:
        self._pending = None
        revoked = set(self._assigned)
        if self._listener is not None and revoked:
            # still assigned while the listener runs: it may commit what it finished
            await self._listener.on_partitions_revoked(revoked)
        self.paused.clear()
        self._assigned = set(assigned)
        for tp in assigned:
            self._positions[tp] = self._committed.get(tp, 0)
        if self._listener is not None:
            await self._listener.on_partitions_assigned(set(assigned))
