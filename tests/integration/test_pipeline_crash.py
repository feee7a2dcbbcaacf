"""A worker process killed while calls are in flight loses nothing; one stopped with SIGTERM
finishes its calls first. The worker runs as its real console script, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import AssetGenerated, GenerateAsset
from shared.media import MediaKind
from shared.settings import KafkaSettings
from shared.worker.testing import (
    EventLog,
    WorkerProcess,
    command_record,
    produce,
    sim_creates,
)

pytestmark = pytest.mark.integration

SLOW = "[[sim:latency=2]]"


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
def kafka(kafka_bootstrap: str, unique_name: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")


@pytest.fixture
def worker_env(
    kafka: KafkaSettings, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LECTUREGEN_", "MEDIA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        LECTUREGEN_TOPIC_NAMESPACE=kafka.topic_namespace,
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="4",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="2",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        DATABASE_URL=pg_database,
        REPLICATE_BASE_URL=sim_url,
        REPLICATE_API_TOKEN="test",
        LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        MEDIA_GENERATION_RETRY_BASE_DELAY_S="0.3",
        MEDIA_GENERATION_RETRY_MAX_TIER_S="1.2",
        LECTUREGEN_IMAGE_WORKER_GROUP_ID=f"w{unique_name}",
        LECTUREGEN_IMAGE_WORKER_METRICS_PORT="0",
        LECTUREGEN_IMAGE_WORKER_SESSION_TIMEOUT_MS="6000",
        LECTUREGEN_IMAGE_WORKER_COMMIT_INTERVAL_S="0.05",
    )
    return env


@pytest.fixture
async def workers(worker_env: dict[str, str], tmp_path: Path) -> AsyncIterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        await worker.kill()


def _commands(count: int) -> list[GenerateAsset]:
    return [
        GenerateAsset(
            command_id=f"c-{i}",
            lecture_id="lecture-1",
            asset_id=f"img-{i}",
            kind=MediaKind.IMAGE,
            prompt_version=1,
            prompt=f"{SLOW} harbour view {i}",
            model="black-forest-labs/flux-schnell",
            requested_at=datetime.now(UTC),
            correlation_id="req-1",
        )
        for i in range(count)
    ]


async def _wait_for_creates(sim_url: str, contains: str, count: int, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        while True:
            if await sim_creates(sim_url, contains) >= count:
                return
            await asyncio.sleep(0.05)


async def test_a_worker_killed_with_calls_in_flight_loses_no_asset(
    kafka: KafkaSettings,
    worker_env: dict[str, str],
    workers: list[WorkerProcess],
    sim_url: str,
    tmp_path: Path,
) -> None:
    commands = _commands(20)
    ids = [c.asset_id for c in commands]
    first = WorkerProcess("lecturegen-image-worker", worker_env, tmp_path / "first.log")
    second = WorkerProcess("lecturegen-image-worker", worker_env, tmp_path / "second.log")
    workers += [first, second]

    await first.start()
    await first.started()
    await produce(kafka, [command_record(c, kafka.topic_namespace) for c in commands])
    await _wait_for_creates(sim_url, "harbour view", 20, 30)  # all 20 calls in flight
    first.signal(signal.SIGKILL)
    assert await first.wait(10) == -signal.SIGKILL

    async with EventLog(kafka, topics.events(kafka.topic_namespace)) as log:
        assert not any(log.outcomes(a) for a in ids)  # none finished before the kill
        await second.start()
        await log.wait_for(lambda: log.ended(*ids), 90, "an outcome for every asset")
        await asyncio.sleep(1)  # room for any duplicate outcome to show up

    for asset_id in ids:
        (outcome,) = log.outcomes(asset_id)
        assert isinstance(outcome, AssetGenerated)
    # a call whose prediction was saved before the kill is resumed, not made again; only one
    # cut off between the create and saving its id is made twice (test_pipeline_resume.py)
    assert 20 <= await sim_creates(sim_url, "harbour view") <= 40


async def test_sigterm_lets_calls_in_flight_finish_and_exits_cleanly(
    kafka: KafkaSettings,
    worker_env: dict[str, str],
    workers: list[WorkerProcess],
    sim_url: str,
    tmp_path: Path,
) -> None:
    commands = _commands(5)
    worker = WorkerProcess("lecturegen-image-worker", worker_env, tmp_path / "worker.log")
    workers.append(worker)
    await worker.start()
    port = await worker.started()

    async with EventLog(kafka, topics.events(kafka.topic_namespace)) as log:
        await produce(kafka, [command_record(c, kafka.topic_namespace) for c in commands])
        await _wait_for_creates(sim_url, "harbour view", 5, 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            metrics = await client.get("/metrics")
        worker.signal(signal.SIGTERM)
        assert await worker.wait(30) == 0
        await log.wait_for(lambda: log.ended(*(c.asset_id for c in commands)), 10, "outcomes")

    assert health.status_code == 200
    assert 'lecturegen_worker_provider_calls_in_flight{medium="image"} 5.0' in metrics.text
    assert await sim_creates(sim_url, "harbour view") == 5
    messages = [line.get("message") for line in worker.lines()]
    assert "worker stopped" in messages
    generated = [line for line in worker.lines() if line.get("message") == "asset generated"]
    assert {line["asset_id"] for line in generated} == {c.asset_id for c in commands}
    assert all(line["correlation_id"] == "req-1" for line in generated)
