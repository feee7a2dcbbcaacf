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
