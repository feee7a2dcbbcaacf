"""A consumer's own lag, measured on a real broker: end offset minus the group's commit, per
held partition; partitions given away are no longer reported."""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from shared.consumer_lag import ConsumerLag
from shared.kafka import TopicSpec, create_topics, make_consumer, make_producer
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


async def test_lag_is_what_the_group_has_not_committed_of_each_held_partition(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    topic = f"lag-{unique_name}"
    await create_topics(kafka, [TopicSpec(topic, 2)])
    producer = make_producer(kafka)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, b"x", partition=n % 2)
    finally:
        await producer.stop()
    registry = CollectorRegistry()
    lag = ConsumerLag(registry, f"g-{unique_name}")
    consumer = make_consumer(kafka, lag.group_id, [topic])
    await consumer.start()
    try:
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        while sum(len(records) for records in batch.values()) < 5:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                batch.setdefault(tp, []).extend(records)
        first = min(batch, key=lambda tp: tp.partition)
        await consumer.commit({first: batch[first][-1].offset + 1})

        await lag.refresh(consumer)

        def reported(partition: int) -> float | None:
            labels = {"consumergroup": lag.group_id, "topic": topic, "partition": str(partition)}
            return registry.get_sample_value("lecturegen_consumer_lag_records", labels)

        assert (reported(0), reported(1)) == (0.0, 2.0)
        await lag.refresh(None)
        assert (reported(0), reported(1)) == (None, None)
    finally:
        await consumer.stop()
