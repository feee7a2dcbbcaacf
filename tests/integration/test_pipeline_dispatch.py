"""The dispatcher hands every asset of a lecture to its worker once, even when it dies halfway
through a lecture and its replacement dispatches the lecture again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from audio_worker.medium import NARRATION
from dispatcher.main import request_topics
from dispatcher.runner import Dispatcher
from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import AssetGenerated, AssetPlan, LectureCreated, SegmentPlan
from shared.kafka import TopicSettings, create_topics, make_consumer, make_producer
from shared.kafka.publisher import Acks, KafkaPublisher
from shared.kafka.records import Outgoing
from shared.media import MediaKind
from shared.providers import MediumSpec
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.worker import WorkerConfig, WorkerRuntime, WorkerSettings, open_worker
from shared.worker.entry import open_replicate_generator
from shared.worker.testing import EventLog, TopicTail, event_record, produce, running, sim_creates

pytestmark = pytest.mark.integration

ALREADY_SENT = 5
"""How many commands the first dispatcher gets acknowledged before it dies."""


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
def kafka(kafka_bootstrap: str, unique_name: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")


@contextlib.asynccontextmanager
async def _worker(
    spec: MediumSpec, kafka: KafkaSettings, dsn: str, sim_url: str, media: Path, group: str
) -> AsyncIterator[WorkerRuntime]:
    config = WorkerConfig(
        worker=WorkerSettings(group_id=group, commit_interval_s=0.05),
        kafka=kafka,
        policy=RetrySettings(base_delay_s=0.3, max_tier_s=1.2).policy(),
        postgres=PostgresSettings(dsn=dsn),
        topics=TopicSettings(request_partitions=4, tier_partitions=2, events_partitions=2),
    )
    provider = ProviderSettings(base_url=sim_url, api_token="test", poll_interval_s=0.05)
    async with (
        open_replicate_generator(spec, provider, BlobSettings(root=media)) as generator,
        open_worker(spec.kind, generator, config) as runtime,
    ):
        yield runtime


def _lecture() -> LectureCreated:
    plans = [(f"img-{i}", MediaKind.IMAGE, f"tide chart {i}") for i in range(8)]
    plans += [(f"nar-{i}", MediaKind.NARRATION, f"The tide turns, part {i}.") for i in range(4)]
    return LectureCreated(
        lecture_id="lecture-1",
        title="Tides",
        duration_s=40,
        segments=tuple(
            SegmentPlan(segment_id=f"s{i}", start_s=i * 5, duration_s=5) for i in range(8)
        ),
        assets=tuple(
            AssetPlan(
                asset_id=asset_id,
                kind=kind,
                segment_id=f"s{int(asset_id.split('-')[1])}",
                prompt=prompt,
                model="",
            )
            for asset_id, kind, prompt in plans
        ),
    )


async def test_a_dispatcher_restarted_mid_lecture_delivers_each_asset_exactly_once(
    kafka: KafkaSettings, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    ns = kafka.topic_namespace
    lecture = _lecture()
    ids = [a.asset_id for a in lecture.assets]
    producer = make_producer(kafka)
    await producer.start()
    publisher = KafkaPublisher(producer)

    class DiesHalfway:
        """Gets the first commands acknowledged, then the process dies."""

        async def enqueue(self, records: list[Outgoing]) -> Acks:
            await (await publisher.enqueue(records[:ALREADY_SENT]))
            raise ConnectionError("the dispatcher process died here")

    def dispatcher(out) -> Dispatcher:  # type: ignore[no-untyped-def]
        return Dispatcher(make_consumer(kafka, f"d{unique_name}"), out, namespace=ns)

    try:
        async with (
            _worker(IMAGE, kafka, pg_database, sim_url, tmp_path, f"wi{unique_name}") as images,
            _worker(NARRATION, kafka, pg_database, sim_url, tmp_path, f"wn{unique_name}") as voice,
            EventLog(kafka, topics.events(ns)) as log,
            TopicTail(kafka, topics.requests(MediaKind.IMAGE, ns)) as image_requests,
            TopicTail(kafka, topics.requests(MediaKind.NARRATION, ns)) as voice_requests,
            running(images, voice),
        ):
            await produce(kafka, [event_record(lecture, ns, correlation_id="req-1")])
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(dispatcher(DiesHalfway()).run(), 30)
            async with running(dispatcher(publisher)):
                await log.wait_for(lambda: log.ended(*ids), 60, "an outcome for every asset")

            def all_requests() -> int:
                return len(image_requests.records) + len(voice_requests.records)

            # the replacement dispatched the whole lecture again: five commands twice
            await image_requests.wait_for(
                lambda: all_requests() == len(ids) + ALREADY_SENT, 10, "every command"
            )
            await asyncio.sleep(1)  # room for a duplicate outcome to show up
    finally:
        await producer.stop()

    for asset_id in ids:
        (outcome,) = log.outcomes(asset_id)
        assert isinstance(outcome, AssetGenerated)
        assert outcome.correlation_id == "req-1"
    assert await sim_creates(sim_url, "tide chart") == 8
    assert await sim_creates(sim_url, "The tide turns") == 4


async def test_an_undecodable_event_is_skipped_and_the_next_lecture_is_dispatched(
    kafka: KafkaSettings, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    ns = kafka.topic_namespace
    lecture = _lecture()
    good = event_record(lecture, ns)
    broken = Outgoing(good.topic, good.key, b'{"lecture_id": 1}', good.headers)
    await create_topics(kafka, request_topics(ns, TopicSettings(request_partitions=2)))
    producer = make_producer(kafka)
    await producer.start()
    dispatcher = Dispatcher(
        make_consumer(kafka, f"d{unique_name}"), KafkaPublisher(producer), namespace=ns
    )
    try:
        async with (
            _worker(IMAGE, kafka, pg_database, sim_url, tmp_path, f"wi{unique_name}") as images,
            EventLog(kafka, topics.events(ns)) as log,
            running(dispatcher, images),
        ):
            await produce(kafka, [broken, good])
            await log.wait_for(lambda: log.ended("img-0", "img-7"), 60, "the images")
    finally:
        await producer.stop()

    rejected = dispatcher.metrics.registry.get_sample_value(
        "lecturegen_dispatcher_events_total", {"result": "rejected"}
    )
    assert rejected == 1


async def test_the_dispatcher_process_dispatches_serves_health_and_stops_on_sigterm(
    kafka: KafkaSettings, unique_name: str, tmp_path: Path
) -> None:
    ns = kafka.topic_namespace
    env = {k: v for k, v in os.environ.items() if not k.startswith("LECTUREGEN_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        LECTUREGEN_TOPIC_NAMESPACE=ns,
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="2",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        LECTUREGEN_DISPATCHER_GROUP_ID=f"d{unique_name}",
        LECTUREGEN_DISPATCHER_METRICS_PORT="0",
    )
    log_path = tmp_path / "dispatcher.log"
    script = Path(sys.executable).with_name("lecturegen-dispatcher")
    with log_path.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(script), env=env, stdout=log_file, stderr=log_file
        )
    try:
        port = await _logged_port(log_path, "dispatcher started")
        async with (
            TopicTail(kafka, topics.requests(MediaKind.IMAGE, ns)) as images,
            TopicTail(kafka, topics.requests(MediaKind.NARRATION, ns)) as voices,
        ):
            await produce(kafka, [event_record(_lecture(), ns)])
            await images.wait_for(lambda: len(images.records) == 8, 30, "image commands")
            await voices.wait_for(lambda: len(voices.records) == 4, 30, "narration commands")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            metrics = await client.get("/metrics")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert health.status_code == 200
    assert 'lecturegen_dispatcher_commands_total{medium="image"} 8.0' in metrics.text


async def _logged_port(log_path: Path, message: str, within_s: float = 30) -> int:
    """The metrics port in the process's JSON log line `message`, once it is there."""
    async with asyncio.timeout(within_s):
        while True:
            if (port := _port_in(log_path, message)) is not None:
                return port
            await asyncio.sleep(0.1)


def _port_in(log_path: Path, message: str) -> int | None:
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and (fields := json.loads(line)).get("message") == message:
            return int(fields["metrics_port"])
    return None
