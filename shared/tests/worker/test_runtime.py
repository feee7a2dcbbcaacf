"""The runtime against a real broker and PostgreSQL, with an in-memory generator."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from shared import topics
from shared.envelope import encode, envelop
from shared.errors import GenerationError
from shared.events import AssetGenerated, GenerateAsset
from shared.kafka import TopicSettings, make_admin, make_producer
from shared.media import MediaKind
from shared.settings import KafkaSettings, PostgresSettings, RetrySettings
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.fakes import InMemoryGenerator
from shared.worker.testing import EventLog, running

pytestmark = pytest.mark.integration

KIND = MediaKind.IMAGE


Send = Callable[[list[GenerateAsset]], Awaitable[None]]
"""Write these commands to the worker's request topic."""


@pytest.fixture
def config(kafka_bootstrap: str, pg_database: str, unique_name: str) -> WorkerConfig:
    return WorkerConfig(
        worker=WorkerSettings(
            group_id=f"g{unique_name}", commit_interval_s=0.05, shutdown_grace_s=10
        ),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}."),
        policy=RetrySettings(base_delay_s=0.3, max_tier_s=1.2).policy(),
        postgres=PostgresSettings(dsn=pg_database),
        topics=TopicSettings(request_partitions=4, tier_partitions=2, events_partitions=2),
    )


def _command(asset_id: str, prompt: str | None = None) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"c-{asset_id}",
        lecture_id="l1",
        asset_id=asset_id,
        kind=KIND,
        prompt_version=1,
        prompt=prompt or f"prompt of {asset_id}",
        model="acme/painter",
        requested_at=datetime.now(UTC),
        correlation_id=f"corr-{asset_id}",
    )


Publish = Callable[[list[GenerateAsset]], "asyncio.Future[None]"]


@pytest.fixture
async def publish(config: WorkerConfig) -> AsyncIterator[Send]:
    producer = make_producer(config.kafka)
    await producer.start()

    async def send(commands: list[GenerateAsset]) -> None:
        for cmd in commands:
            value, headers = encode(envelop(cmd, "test", correlation_id=cmd.correlation_id))
            await producer.send_and_wait(
                topics.requests(KIND, config.kafka.topic_namespace),
                value,
                key=cmd.asset_id.encode(),
                headers=headers,
            )

    yield send
    await producer.stop()


async def _committed(config: WorkerConfig, topic: str) -> int:
    """The sum of the group's committed offsets over the partitions of `topic`."""
    admin = make_admin(config.kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(config.worker.group_id)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic)


async def test_a_lecture_of_many_assets_ends_with_every_request_committed(
    config: WorkerConfig, publish: Send
) -> None:
    flaky = GenerationError.transient("E6716")
    generator = InMemoryGenerator(KIND, {"flaky": [flaky, flaky]}, latency_s=0.05)
    commands = [_command(f"a{i}") for i in range(11)] + [_command("f", "flaky")]
    ns = config.kafka.topic_namespace

    async with (
        open_worker(KIND, generator, config) as runtime,
        EventLog(config.kafka, topics.events(ns)) as log,
    ):
        running = asyncio.create_task(runtime.run())
        await publish(commands)
        await log.wait_for(lambda: log.ended(*(c.asset_id for c in commands)), 30, "outcomes")
        runtime.stop()
        await asyncio.wait_for(running, 15)

    assert generator.calls_for("flaky") == 3
    assert all(len(log.outcomes(c.asset_id)) == 1 for c in commands)
    assert isinstance(log.outcomes("f")[0], AssetGenerated)
    assert await _committed(config, topics.requests(KIND, ns)) == len(commands)


async def test_stopping_lets_running_calls_finish_and_commits_them(
    config: WorkerConfig, publish: Send
) -> None:
    generator = InMemoryGenerator(KIND, latency_s=1.0)
    commands = [_command(f"a{i}") for i in range(5)]
    ns = config.kafka.topic_namespace

    async with (
        open_worker(KIND, generator, config) as runtime,
        EventLog(config.kafka, topics.events(ns)) as log,
    ):
        running = asyncio.create_task(runtime.run())
        await publish(commands)
        await log.wait_for(lambda: len(generator.calls) == 5, 20, "five calls in flight")
        began = time.monotonic()
        runtime.stop()
        await asyncio.wait_for(running, 15)
        stopped_after = time.monotonic() - began
        await log.wait_for(lambda: log.ended(*(c.asset_id for c in commands)), 5, "outcomes")

    assert stopped_after < 5
    assert await _committed(config, topics.requests(KIND, ns)) == len(commands)


async def test_a_second_worker_joining_mid_flight_makes_no_call_twice(
    config: WorkerConfig, publish: Send
) -> None:
    generator = InMemoryGenerator(KIND, latency_s=0.5)
    commands = [_command(f"a{i}") for i in range(40)]
    ns = config.kafka.topic_namespace
    worker = config.worker.model_copy(update={"max_in_flight": 8})
    one = dataclasses.replace(config, worker=worker)

    async with (
        open_worker(KIND, generator, one) as first,
        open_worker(KIND, generator, one) as second,
        EventLog(config.kafka, topics.events(ns)) as log,
        running(first),
    ):
        await publish(commands)
        await log.wait_for(lambda: len(generator.calls) >= 8, 20, "calls in flight")
        async with running(second):  # the group rebalances while eight calls run
            await log.wait_for(lambda: log.ended(*(c.asset_id for c in commands)), 60, "all")
            await log.wait_for(lambda: second.in_flight == 0 and first.in_flight == 0, 10)

    assert sorted(a.command.asset_id for a in generator.calls) == sorted(
        c.asset_id for c in commands
    )
    assert all(len(log.outcomes(c.asset_id)) == 1 for c in commands)
