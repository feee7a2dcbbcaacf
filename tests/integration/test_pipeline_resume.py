"""A worker process killed while its predictions run resumes them when it restarts: each
input is created at Replicate once, never twice, and each asset ends once. The worker runs as
its real console script; the provider is the local Replicate-compatible server."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
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
    sim_create_counts,
    sim_creates,
)

pytestmark = pytest.mark.integration

REQUESTS = 6
PROMPT = "[[sim:latency=3]] a lighthouse in fog"


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
def kafka(kafka_bootstrap: str, unique_name: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")


@pytest.fixture
async def workers(
    kafka: KafkaSettings, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> AsyncIterator[list[WorkerProcess]]:
    """Two image workers in turn (one killed, one restarted) with the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LECTUREGEN_", "MEDIA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        LECTUREGEN_TOPIC_NAMESPACE=kafka.topic_namespace,
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="2",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="1",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="1",
        DATABASE_URL=pg_database,
        REPLICATE_BASE_URL=sim_url,
        REPLICATE_API_TOKEN="test",
        LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        LECTUREGEN_IMAGE_WORKER_GROUP_ID=f"w{unique_name}",
        LECTUREGEN_IMAGE_WORKER_METRICS_PORT="0",
        LECTUREGEN_IMAGE_WORKER_SESSION_TIMEOUT_MS="6000",
        LECTUREGEN_IMAGE_WORKER_COMMIT_INTERVAL_S="0.05",
    )
    started = [
        WorkerProcess("lecturegen-image-worker", env, tmp_path / f"{name}.log")
        for name in ("killed", "restarted")
    ]
    yield started
    for worker in started:
        await worker.kill()


def _commands() -> list[GenerateAsset]:
    return [
        GenerateAsset(
            command_id=f"c-{i}",
            lecture_id="lecture-1",
            asset_id=f"img-{i}",
            kind=MediaKind.IMAGE,
            prompt_version=1,
            prompt=f"{PROMPT} {i}",
            model="black-forest-labs/flux-schnell",
            requested_at=datetime.now(UTC),
            correlation_id="req-1",
        )
        for i in range(REQUESTS)
    ]


async def _saved_predictions(dsn: str, count: int, within_s: float) -> dict[str, str]:
    """Wait until the worker's rows hold `count` created predictions: asset id → prediction."""
    connection = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(within_s):
            while True:
                rows = await connection.fetch(
                    "SELECT asset_id, inflight_prediction_id FROM lecturegen_worker.asset_versions"
                    " WHERE inflight_prediction_id IS NOT NULL"
                )
                if len(rows) >= count:
                    return {r["asset_id"]: r["inflight_prediction_id"] for r in rows}
                await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def _wait_for_creates(sim_url: str, count: int, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        while True:
            if await sim_creates(sim_url, PROMPT) >= count:
                return
            await asyncio.sleep(0.05)


async def test_a_worker_killed_while_its_predictions_run_resumes_them_instead_of_paying_twice(
    kafka: KafkaSettings, workers: list[WorkerProcess], sim_url: str, pg_database: str
) -> None:
    commands = _commands()
    ids = [c.asset_id for c in commands]
    killed, restarted = workers

    await killed.start()
    await killed.started()
    await produce(kafka, [command_record(c, kafka.topic_namespace) for c in commands])
    await _wait_for_creates(sim_url, REQUESTS, 30)
    # Every prediction is created; the kill comes once the worker has saved their ids (the
    # instant between a create's answer and that save is the one window left open: there
    # Replicate, without an idempotency key, is paid twice).
    saved = await _saved_predictions(pg_database, REQUESTS, 10)
    killed.signal(signal.SIGKILL)
    assert await killed.wait(10) == -signal.SIGKILL

    async with EventLog(kafka, topics.events(kafka.topic_namespace)) as log:
        await log.read_to_end(10)
        assert not any(log.outcomes(a) for a in ids)  # killed in the middle of every call
        await restarted.start()
        await log.wait_for(lambda: log.ended(*ids), 90, "an outcome for every asset")
        restarted.signal(signal.SIGTERM)  # lets anything still running finish first
        assert await restarted.wait(30) == 0
        await log.read_to_end(10)

    assert await sim_create_counts(sim_url, PROMPT) == {c.prompt: 1 for c in commands}
    for asset_id in ids:
        (outcome,) = log.outcomes(asset_id)
        assert isinstance(outcome, AssetGenerated)
        assert outcome.prediction_id == saved[asset_id]  # the prediction made before the kill
