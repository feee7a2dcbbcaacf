"""The consumer port's contract, run on the in-memory fake and on a real broker alike, so the
fake the runtime's unit tests use cannot drift from what aiokafka does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRebalanceListener, TopicPartition

from shared.kafka import TopicSpec, create_topics, make_consumer, make_producer
from shared.kafka.consumer import Consumer
from shared.kafka.fakes import InMemoryConsumer
from shared.kafka.records import Outgoing, Record
from shared.settings import KafkaSettings


class Heard(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.assigned: list[set[TopicPartition]] = []

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned.append(set(assigned))


class World:
    """A one-partition topic, a way to write to it, and a consumer of it (not started)."""

    def __init__(self, topic: str, consumer: Consumer) -> None:
        self.topic = topic
        self.tp = TopicPartition(topic, 0)
        self.consumer = consumer

    async def append(self, *values: bytes) -> None:
        raise NotImplementedError

    async def fetch(self, count: int, within_s: float = 10) -> list[Record]:
        """The next `count` records the consumer returns."""
        got: list[Record] = []
        async with asyncio.timeout(within_s):
            while len(got) < count:
                batch = await self.consumer.getmany(timeout_ms=200)
                got += [Record.of(r) for records in batch.values() for r in records]
        return got

    async def nothing_within(self, seconds: float) -> bool:
        batch = await self.consumer.getmany(timeout_ms=int(seconds * 1000))
        return not any(batch.values())


class FakeWorld(World):
    async def append(self, *values: bytes) -> None:
        assert isinstance(self.consumer, InMemoryConsumer)
        for value in values:
            self.consumer.append(Outgoing(self.topic, b"k", value, []), at=datetime.now(UTC))


class KafkaWorld(World):
    def __init__(self, topic: str, consumer: Consumer, kafka: KafkaSettings) -> None:
        super().__init__(topic, consumer)
        self.kafka = kafka

    async def append(self, *values: bytes) -> None:
        producer = make_producer(self.kafka)
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(self.topic, value, key=b"k", partition=0)
        finally:
            await producer.stop()


@pytest.fixture(params=["in-memory", pytest.param("kafka", marks=pytest.mark.integration)])
async def world(request: pytest.FixtureRequest, unique_name: str) -> AsyncIterator[World]:
    topic = f"contract-{unique_name}"
    if request.param == "in-memory":
        yield FakeWorld(topic, InMemoryConsumer({topic: 1}))
        return
    kafka = KafkaSettings(bootstrap_servers=request.getfixturevalue("kafka_bootstrap"))
    await create_topics(kafka, [TopicSpec(topic, 1)])
    consumer = make_consumer(kafka, f"g-{unique_name}", session_timeout_ms=6000)
    try:
        yield KafkaWorld(topic, consumer, kafka)
    finally:
        await consumer.stop()


async def _joined(world: World) -> Heard:
    heard = Heard()
    world.consumer.subscribe([world.topic], listener=heard)
    await world.consumer.start()
    return heard


async def test_records_come_in_order_once_the_group_assigned_the_partition(world: World) -> None:
    heard = await _joined(world)
    await world.append(b"a", b"b", b"c")

    records = await world.fetch(3)

    assert [(r.offset, r.value) for r in records] == [(0, b"a"), (1, b"b"), (2, b"c")]
    assert heard.assigned == [{world.tp}]


async def test_a_paused_partition_gives_nothing_until_resumed(world: World) -> None:
    await _joined(world)
    await world.append(b"a")
    await world.fetch(1)

    world.consumer.pause(world.tp)
    await world.append(b"b")
    assert await world.nothing_within(0.5)

    world.consumer.resume(world.tp)
    assert [r.value for r in await world.fetch(1)] == [b"b"]


async def test_a_commit_is_what_the_group_reads_back_and_a_seek_fetches_again(
    world: World,
) -> None:
    await _joined(world)
    await world.append(b"a", b"b")
    await world.fetch(2)

    await world.consumer.commit({world.tp: 1})
    assert await world.consumer.committed(world.tp) == 1

    world.consumer.seek(world.tp, 1)
    assert [r.value for r in await world.fetch(1)] == [b"b"]
