"""The consumer port: the few methods of aiokafka's `AIOKafkaConsumer` that lecturegen's
consuming loops (the worker runtime, its committer, the dispatcher) call.

`AIOKafkaConsumer` fits it as it is; `shared.kafka.fakes.InMemoryConsumer` fits it for unit
tests of those loops (rebalances, pause and resume, commits) without a broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition

Fetched = Mapping[TopicPartition, Sequence[Any]]
"""What `getmany` returns: per partition, consumed records (aiokafka's `ConsumerRecord`s; read
them through `shared.kafka.records.Record.of`)."""


class Consumer(Protocol):
    """A group consumer without auto-commit (`shared.kafka.make_consumer`)."""

    def subscribe(
        self, topics: Sequence[str], *, listener: ConsumerRebalanceListener | None = None
    ) -> None:
        """Join the group for `topics`; `listener` hears of every revocation and assignment."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(self, *, timeout_ms: int = 0, max_records: int | None = None) -> Fetched:
        """The next records of the assigned partitions that are not paused, waiting up to
        `timeout_ms` for some; rebalance callbacks run inside this call."""
        ...

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit `offsets` (the next offset to read, per partition); raises a `KafkaError`
        (`CommitFailedError`, `IllegalStateError`) when the group has moved on."""
        ...

    async def committed(self, partition: TopicPartition) -> int | None:
        """The group's committed offset of `partition`, whoever committed it."""
        ...

    def pause(self, *partitions: TopicPartition) -> None:
        """Fetch nothing more from `partitions` until resumed (prefetched records are dropped:
        the position stays after the last record returned)."""
        ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Fetch `partition` from `offset` next."""
        ...
