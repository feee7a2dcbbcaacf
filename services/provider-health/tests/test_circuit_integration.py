"""The provider-health job against the real broker: failures on the event log open a model's
circuit, it goes half-open after its wait, probes close it, and a killed job comes back with
its circuits where they were."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from provider_health.testing import HealthProcess, next_state
from shared import topics
from shared.envelope import encode, envelop
from shared.errors import GenerationError
from shared.events import AssetGenerated, AssetRetrying, MediaRef, Payload
from shared.kafka import TopicSettings, create_topics, events_topic, provider_health_topic
from shared.media import MediaKind
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration

MODEL = "acme/painter"
KafkaIO = tuple[str, AIOKafkaProducer, AIOKafkaConsumer]


def _asset(i: int) -> dict[str, object]:
    return {
        "lecture_id": f"l{i}",
        "asset_id": f"a{i}",
        "kind": MediaKind.IMAGE,
        "prompt_version": 1,
    }


def failed(i: int) -> AssetRetrying:
    error = GenerationError.transient("503 Service Unavailable", provider="replicate")
    now = datetime.now(UTC)
    return AssetRetrying(
        **_asset(i),
        attempt=1,
        retried_count=1,
        delay_s=1,
        next_attempt_at=now,
        error=error.info,
        model=MODEL,
    )


def generated(i: int) -> AssetGenerated:
    media = MediaRef(blob_key="k", content_type="image/png", size_bytes=1)
    return AssetGenerated(
        **_asset(i), media=media, prompt="p", model=MODEL, provider="replicate", attempts=1
    )


async def _emit(producer: AIOKafkaProducer, topic: str, *payloads: Payload) -> None:
    for payload in payloads:
        value, headers = encode(envelop(payload, "test"))
        await producer.send_and_wait(topic, value, key=b"l", headers=headers)


@pytest.fixture
async def kafka_io(kafka_bootstrap: str, health_process: HealthProcess) -> AsyncIterator[KafkaIO]:
    ns = health_process.env["LECTUREGEN_TOPIC_NAMESPACE"]
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=ns)
    await create_topics(
        kafka, [events_topic(ns, TopicSettings()), provider_health_topic(ns, TopicSettings())]
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    reader = AIOKafkaConsumer(
        topics.provider_health(ns), bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await producer.start()
    await reader.start()
    try:
        yield topics.events(ns), producer, reader
    finally:
        await reader.stop()
        await producer.stop()


async def test_failures_open_the_circuit_and_probes_close_it(
    health_process: HealthProcess, kafka_io: KafkaIO
) -> None:
    events, producer, reader = kafka_io
    health_process.start()
    await _emit(producer, events, generated(0), *(failed(i) for i in range(1, 5)))

    opened, _ = await next_state(reader, 90)
    assert (opened.provider, opened.model, opened.state) == ("replicate", MODEL, "open")
    assert (opened.window.attempts, opened.window.failures) == (4, 3)
    assert opened.unavailable_since is not None

    half, _ = await next_state(reader, 30)
    assert half.state == "half_open"
    assert (half.since - opened.since).total_seconds() >= 3  # LECTUREGEN_BREAKER_OPEN_FOR_S

    await _emit(producer, events, generated(10), generated(11))
    closed, _ = await next_state(reader, 30)
    assert closed.state == "closed"
    assert closed.unavailable_since is None


async def test_a_killed_job_restarts_with_its_circuit_still_open(
    health_process: HealthProcess, kafka_io: KafkaIO
) -> None:
    events, producer, reader = kafka_io
    health_process.env["LECTUREGEN_BREAKER_OPEN_FOR_S"] = "20"
    health_process.start()
    await _emit(producer, events, *(failed(i) for i in range(4)))
    opened, _ = await next_state(reader, 90)
    assert opened.state == "open"
    await asyncio.sleep(4)  # a commit and the changelog written

    health_process.kill()
    health_process.start()
    # a job that forgot the circuit would take these for a closed circuit's successes and
    # publish nothing; one that remembers stays open and later tries probes
    await _emit(producer, events, generated(10), generated(11))
    half, _ = await next_state(reader, 60)
    assert half.state == "half_open"
    assert half.unavailable_since == opened.unavailable_since


async def test_a_few_assets_failing_on_every_attempt_do_not_open_it_but_many_assets_do(
    health_process: HealthProcess, kafka_io: KafkaIO
) -> None:
    events, producer, reader = kafka_io
    health_process.start()
    # two assets the model fails six times each (MIN_FRESH_ASSETS is 3 under FAST_BREAKER)
    await _emit(producer, events, generated(0), *(failed(i) for i in (1, 2) * 6))
    await _emit(producer, events, failed(3))  # a third failing asset: now it looks like one

    opened, _ = await next_state(reader, 90)
    assert opened.state == "open"
    assert (opened.window.attempts, opened.window.failures) == (14, 13)
    assert "3 of 4 assets" in opened.reason


async def test_a_killed_job_remembers_the_assets_that_failed_in_the_window(
    health_process: HealthProcess, kafka_io: KafkaIO
) -> None:
    events, producer, reader = kafka_io
    health_process.env["LECTUREGEN_BREAKER_WINDOW_S"] = "60"
    health_process.start()
    await _emit(producer, events, failed(0), failed(1))
    await asyncio.sleep(6)  # judged, committed and in the changelogs: still closed

    health_process.kill()
    health_process.start()
    # two more failing assets make four, three of them fresh: only a job that recovered the
    # window's assets and the circuit's fresh ones opens now
    await _emit(producer, events, failed(2), failed(3))
    opened, _ = await next_state(reader, 90)
    assert opened.state == "open"
    assert "4 of 4 assets" in opened.reason
