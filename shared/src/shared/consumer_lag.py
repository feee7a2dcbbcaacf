"""Each consumer exports its own lag, so dashboards and alerts need no Kafka exporter.

`lecturegen_consumer_lag_records{consumergroup, topic, partition}` is, for every partition the
process holds now, the partition's end offset minus the group's committed offset: records
written but not yet finished by the group (the same figure a Kafka exporter reports). Several
replicas of a group each report the partitions they hold, so `sum by (consumergroup, topic)`
is the group's lag. Retry tiers hold records until they are due, so their lag is by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Gauge

REFRESH_S = 5.0
"""How often the lag is measured: two requests per refresh, cheap next to the fetches."""

log = logging.getLogger(__name__)


class ConsumerLag:
    """The lag gauge of one consumer group in `registry`, refreshed by `watch`."""

    def __init__(self, registry: CollectorRegistry, group_id: str) -> None:
        self.group_id = group_id
        self.gauge = Gauge(
            "lecturegen_consumer_lag_records",
            "Records of a held partition not yet committed by the consumer group.",
            ["consumergroup", "topic", "partition"],
            registry=registry,
        )
        self._reported: set[TopicPartition] = set()

    @contextlib.asynccontextmanager
    async def watching(
        self, consumer_of: Callable[[], AIOKafkaConsumer | None]
    ) -> AsyncIterator[None]:
        """`watch` in the background for the duration of the block."""
        task = asyncio.create_task(self.watch(consumer_of), name="consumer-lag")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def watch(
        self, consumer_of: Callable[[], AIOKafkaConsumer | None], interval_s: float = REFRESH_S
    ) -> None:
        """Refresh every `interval_s` until cancelled; `consumer_of` gives the running
        consumer, or None while there is none. A failed refresh keeps the last figures."""
        while True:
            consumer = consumer_of()
            try:
                await self.refresh(consumer)
            except (KafkaError, OSError, RuntimeError) as exc:
                log.debug("consumer lag not measured: %r", exc)
            await asyncio.sleep(interval_s)

    async def refresh(self, consumer: AIOKafkaConsumer | None) -> None:
        """Measure the partitions `consumer` holds now; forget the ones it gave away."""
        held = set(consumer.assignment()) if consumer is not None else set()
        for gone in self._reported - held:
            self.gauge.remove(self.group_id, gone.topic, str(gone.partition))
        self._reported &= held
        if consumer is None or not held:
            return
        partitions = sorted(held)
        ends = await consumer.end_offsets(partitions)
        committed = await asyncio.gather(*(consumer.committed(tp) for tp in partitions))
        starts = await consumer.beginning_offsets(partitions)
        for tp, done in zip(partitions, committed, strict=True):
            lag = ends[tp] - (done if done is not None else starts[tp])
            self.gauge.labels(self.group_id, tp.topic, str(tp.partition)).set(max(0, lag))
            self._reported.add(tp)
