"""Records handed to a producer as one batch per partition, in the order they were added.

aiokafka's `send` costs, per record, a coroutine, a metadata check, the partitioner (murmur2
in Python), a size estimate and a future resolved on the ack; a busy worker sends two
records per request, so that was a large part of its time. `send_batch` takes a batch the
caller built. `BatchingSender` collects what is added in one pass of the event loop (and
while the batches before it are handed over), builds one batch per partition with the
producer's own partitioner rule (`DefaultPartitioner`, so a key lands where `send` would put
it), hands the batches over one after the other from one task (so nothing added later
overtakes anything added earlier), and resolves each caller's future once every batch that
holds its records is acknowledged, or fails it with the first batch that was refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from shared.kafka.records import Outgoing

_PARTITION_CACHE = 100_000
"""Keys whose partition is remembered per topic (the partitioner is pure Python)."""


class _Acks:
    """One caller's future, resolved when its last batch is acknowledged."""

    __slots__ = ("future", "pending")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self.pending = 0

    def batch_done(self, error: BaseException | None) -> None:
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
            return
        self.pending -= 1
        if self.pending == 0:
            self.future.set_result(None)


@dataclass(slots=True)
class _Batch:
    topic: str
    partition: int
    builder: Any
    waiters: list[_Acks] = field(default_factory=list)

    def acked(self, sent: asyncio.Future[Any]) -> None:
        if sent.cancelled():
            error: BaseException | None = ConnectionError("the batch was cancelled")
        else:
            error = sent.exception()
        for waiter in self.waiters:
            waiter.batch_done(error)


class _Partitioning:
    """Where the keys of one topic go, for its partition count at the time."""

    __slots__ = ("of_key", "partitions")

    def __init__(self, partitions: list[int]) -> None:
        self.partitions = partitions
        self.of_key: dict[bytes, int] = {}

    def partition(self, key: bytes) -> int:
        found = self.of_key.get(key)
        if found is None:
            if len(self.of_key) >= _PARTITION_CACHE:
                self.of_key.clear()
            found = self.of_key[key] = DefaultPartitioner()(key, self.partitions, self.partitions)
        return found


class BatchingSender:
    """Hands records to a started producer in batches per partition; see the module."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._added: list[tuple[list[Outgoing], _Acks]] = []
        self._task: asyncio.Task[None] | None = None
        self._topics: dict[str, _Partitioning] = {}

    def add(self, records: list[Outgoing]) -> asyncio.Future[None]:
        """Queue `records` behind everything added before; the future is resolved once the
        broker acknowledged all of them."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not records:
            future.set_result(None)
            return future
        self._added.append((records, _Acks(future)))
        if self._task is None:
            self._task = loop.create_task(self._hand_over(), name="kafka-batches")
        return future

    async def _hand_over(self) -> None:
        try:
            while self._added:
                added, self._added = self._added, []
                await self._send(added)
        finally:
            self._task = None
            for _, acks in self._added:  # only when this task was cancelled
                acks.future.cancel()
            self._added = []

    async def _send(self, added: list[tuple[list[Outgoing], _Acks]]) -> None:
        batches: list[_Batch] = []
        try:
            where = await self._partitionings({o.topic for records, _ in added for o in records})
            open_batches: dict[tuple[str, int], _Batch] = {}
            for records, acks in added:
                for o in records:
                    partition = where[o.topic].partition(o.key)
                    batch = open_batches.get((o.topic, partition))
                    if batch is None or not _append(batch, o):
                        batch = _Batch(o.topic, partition, self._producer.create_batch())
                        _append(batch, o)  # an empty batch takes a record of any size
                        open_batches[(o.topic, partition)] = batch
                        batches.append(batch)
                    if not batch.waiters or batch.waiters[-1] is not acks:
                        batch.waiters.append(acks)
                        acks.pending += 1
            for batch in batches:
                sent = await self._producer.send_batch(
                    batch.builder, batch.topic, partition=batch.partition
                )
                sent.add_done_callback(batch.acked)
        except Exception as exc:
            for _, acks in added:
                acks.batch_done(exc)

    async def _partitionings(self, topics: set[str]) -> dict[str, _Partitioning]:
        found: dict[str, _Partitioning] = {}
        for topic in topics:
            partitions = sorted(await self._producer.partitions_for(topic))
            known = self._topics.get(topic)
            if known is None or known.partitions != partitions:
                known = self._topics[topic] = _Partitioning(partitions)
            found[topic] = known
        return found


def _append(batch: _Batch, record: Outgoing) -> bool:
    appended = batch.builder.append(
        timestamp=None, key=record.key, value=record.value, headers=record.headers
    )
    return appended is not None
