"""`KafkaPublisher` hands records over as one batch per partition: on a real broker, every
record lands where `send` would have put it, in the order it was enqueued, and each caller's
acks come only once its records are written (or fail with the batch that was refused)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka import KafkaPublisher, TopicSpec, create_topics, make_producer, make_reader
from shared.kafka.records import Outgoing, Record
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def kafka(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)


@pytest.fixture
async def producer(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(kafka, max_batch_size=1024)  # small: several batches per partition
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _read(kafka: KafkaSettings, topic: str, partitions: int, count: int) -> list[Record]:
    reader = make_reader(kafka, auto_offset_reset="earliest")
    reader.assign([TopicPartition(topic, p) for p in range(partitions)])
    await reader.start()
    got: list[Record] = []
    try:
        async with asyncio.timeout(20):
            while len(got) < count:
                batch = await reader.getmany(timeout_ms=200)
                got += [Record.of(r) for records in batch.values() for r in records]
    finally:
        await reader.stop()
    return got


async def test_records_land_where_send_puts_them_in_the_order_they_were_enqueued(
    kafka: KafkaSettings, producer: AIOKafkaProducer, unique_name: str
) -> None:
    topic = f"batching-{unique_name}"
    await create_topics(kafka, [TopicSpec(topic, 4)])
    publisher = KafkaPublisher(producer)
    keys = [f"key-{i % 7}".encode() for i in range(120)]
    enqueued = [(key, f"{i}:first".encode() * 20) for i, key in enumerate(keys)]
    enqueued += [(key, f"{i}:second".encode()) for i, key in enumerate(keys)]
    # enqueued by many callers in one pass of the event loop, as a worker's turns do
    acks = [
        await publisher.enqueue([Outgoing(topic, key, value, [("h", key)])])
        for key, value in enqueued
    ]
    await asyncio.gather(*acks)

    records = await _read(kafka, topic, 4, len(enqueued))

    by_send = {key: await _partition_send_chooses(producer, topic, key) for key in set(keys)}
    assert all(r.partition == by_send[r.key or b""] for r in records)
    assert all(r.headers == [("h", r.key)] for r in records)
    in_log_order = sorted(records, key=lambda r: (r.partition, r.offset))
    for key in set(keys):
        assert [r.value for r in in_log_order if r.key == key] == [
            value for k, value in enqueued if k == key
        ]


async def test_a_refused_batch_fails_the_acks_of_its_records(
    kafka: KafkaSettings, producer: AIOKafkaProducer, unique_name: str
) -> None:
    topic = f"batching-small-{unique_name}"
    await create_topics(kafka, [TopicSpec(topic, 1, config={"max.message.bytes": "2000"})])
    publisher = KafkaPublisher(producer)

    fits = await publisher.enqueue([Outgoing(topic, b"k", b"small", [])])
    await fits
    too_large = await publisher.enqueue([Outgoing(topic, b"k", b"x" * 10_000, [])])

    with pytest.raises(KafkaError):
        await too_large


async def _partition_send_chooses(producer: AIOKafkaProducer, topic: str, key: bytes) -> int:
    sent = await producer.send_and_wait(topic, b"probe", key=key)
    return int(sent.partition)
