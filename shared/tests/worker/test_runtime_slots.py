"""A turn that only waits for its prediction's webhook gives its slot back (webhook mode),
while its offset still waits for its outcome: a real broker and PostgreSQL, a gated generator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from shared import topics
from shared.envelope import encode, envelop
from shared.events import GenerateAsset
from shared.kafka import TopicSettings, make_admin, make_producer
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import GenerationResult
from shared.settings import KafkaSettings, PostgresSettings, RetrySettings
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.fakes import InMemoryGenerator
from shared.worker.testing import EventLog

pytestmark = pytest.mark.integration

KIND = MediaKind.VIDEO
SLOTS = 2
REQUESTS = 6


class GatedGenerator:
    """Creates at once, then (like a webhook wait) gives the slot back if `gives_back`, and
    finishes only when the gate opens."""

    def __init__(self, gives_back: bool) -> None:
        self.gives_back = gives_back
        self.gate = asyncio.Event()
        self.waiting = 0
        self.most_waiting = 0
        self._done = InMemoryGenerator(KIND)

    async def generate(self, attempt: Attempt) -> GenerationResult:
        if self.gives_back and attempt.on_waiting is not None:
            attempt.on_waiting()
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1
        return await self._done.generate(attempt)


@pytest.fixture
def config(kafka_bootstrap: str, pg_database: str, unique_name: str) -> WorkerConfig:
    return WorkerConfig(
        worker=WorkerSettings(
            group_id=f"g{unique_name}", commit_interval_s=0.05, max_in_flight=SLOTS
        ),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}."),
        policy=RetrySettings(base_delay_s=0.3, max_tier_s=1.2).policy(),
        postgres=PostgresSettings(dsn=pg_database),
        topics=TopicSettings(request_partitions=2, tier_partitions=1, events_partitions=1),
    )


@pytest.fixture
async def publish(config: WorkerConfig) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    producer = make_producer(config.kafka)
    await producer.start()

    async def send(count: int) -> None:
        for i in range(count):
            cmd = GenerateAsset(
                command_id=f"c{i}",
                lecture_id="l1",
                asset_id=f"a{i}",
                kind=KIND,
                prompt_version=1,
                prompt=f"clip {i}",
                model="acme/filmmaker",
                requested_at=datetime.now(UTC),
                correlation_id=f"corr{i}",
            )
            value, headers = encode(envelop(cmd, "test", correlation_id=cmd.correlation_id))
            topic = topics.requests(KIND, config.kafka.topic_namespace)
            await producer.send_and_wait(topic, value, key=cmd.asset_id.encode(), headers=headers)

    yield send
    await producer.stop()


async def _committed(config: WorkerConfig) -> int:
    admin = make_admin(config.kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(config.worker.group_id)
    finally:
        await admin.close()
    topic = topics.requests(KIND, config.kafka.topic_namespace)
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic)


async def _run(config: WorkerConfig, publish: Callable[[int], object], gives_back: bool) -> int:
    """How many requests waited at once; checks that nothing was committed while they did
    and everything once they ended."""
    generator = GatedGenerator(gives_back)
    ns = config.kafka.topic_namespace
    async with (
        open_worker(KIND, generator, config) as runtime,
        EventLog(config.kafka, topics.events(ns)) as log,
    ):
        running = asyncio.create_task(runtime.run())
        await publish(REQUESTS)  # type: ignore[misc]
        expected = REQUESTS if gives_back else SLOTS
        await log.wait_for(lambda: generator.waiting == expected, 20, f"{expected} waiting")
        await asyncio.sleep(0.5)  # time enough to start more, or to commit, if it would
        assert generator.most_waiting == expected
        assert runtime.busy_slots == (0 if gives_back else SLOTS)
        assert await _committed(config) == 0, "nothing is committed before its outcome"
        generator.gate.set()
        assets = [f"a{i}" for i in range(REQUESTS)]
        await log.wait_for(lambda: log.ended(*assets), 20, "every outcome")
        await log.wait_for(lambda: runtime.in_flight == 0, 5, "the turns to end")
        runtime.stop()
        await asyncio.wait_for(running, 15)
    assert all(len(log.outcomes(a)) == 1 for a in assets)
    assert await _committed(config) == REQUESTS
    return generator.most_waiting


async def test_turns_waiting_for_a_webhook_free_their_slots_and_commit_only_when_done(
    config: WorkerConfig, publish: Callable[[int], object]
) -> None:
    assert await _run(config, publish, gives_back=True) == REQUESTS


async def test_turns_that_poll_keep_their_slots(
    config: WorkerConfig, publish: Callable[[int], object]
) -> None:
    assert await _run(config, publish, gives_back=False) == SLOTS
