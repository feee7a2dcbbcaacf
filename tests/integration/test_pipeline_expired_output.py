"""A worker killed while its prediction runs comes back after the prediction's output has
expired (Replicate deletes outputs after about an hour): the restarted worker resumes the
prediction, finds `data_removed`, makes a new one and the asset ends `generated`, never
`needs_prompt_update`. The worker runs as its real console script; the provider is the local
Replicate-compatible server, whose `[[sim:expire-output x1]]` expires the first prediction's
output the moment it finishes."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import AssetGenerated, GenerateAsset
from shared.media import MediaKind
from shared.settings import KafkaSettings
from shared.worker.testing import EventLog, WorkerProcess, command_record, produce, sim_creates

pytestmark = pytest.mark.integration

PROMPT = "[[sim:latency=2]] [[sim:expire-output x1]] a tide pool at noon"


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LECTUREGEN_", "MEDIA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        LECTUREGEN_TOPIC_NAMESPACE=kafka.topic_namespace,
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="1",
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


async def _saved_prediction(dsn: str, within_s: float) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(within_s):
            while True:
                found = await connection.fetchval(
                    "SELECT inflight_prediction_id FROM lecturegen_worker.asset_versions"
                    " WHERE inflight_prediction_id IS NOT NULL"
                )
                if found:
                    return str(found)
                await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def _expired(sim_url: str, prediction_id: str, within_s: float) -> None:
    async with httpx.AsyncClient(base_url=sim_url, headers={"Authorization": "Bearer t"}) as http:
        async with asyncio.timeout(within_s):
            while True:
                body = (await http.get(f"/v1/predictions/{prediction_id}")).json()
                if body["status"] == "succeeded":
                    assert (body["output"], body["data_removed"]) == (None, True)
                    return
                await asyncio.sleep(0.1)


async def test_an_output_that_expired_while_the_worker_was_down_is_made_again(
    kafka: KafkaSettings, workers: list[WorkerProcess], sim_url: str, pg_database: str
) -> None:
    command = GenerateAsset(
        command_id="c-1",
        lecture_id="lecture-1",
        asset_id="img-1",
        kind=MediaKind.IMAGE,
        prompt_version=1,
        prompt=PROMPT,
        model="black-forest-labs/flux-schnell",
        requested_at=datetime.now(UTC),
        correlation_id="req-1",
    )
    killed, restarted = workers
    await killed.start()
    await killed.started()
    await produce(kafka, [command_record(command, kafka.topic_namespace)])
    first = await _saved_prediction(pg_database, 30)
    killed.signal(signal.SIGKILL)
    assert await killed.wait(10) == -signal.SIGKILL
    await _expired(sim_url, first, 10)  # it finished while no worker ran, and its output is gone

    async with EventLog(kafka, topics.events(kafka.topic_namespace)) as log:
        await restarted.start()
        await log.wait_for(lambda: log.ended("img-1"), 60, "an outcome for the asset")
        restarted.signal(signal.SIGTERM)
        assert await restarted.wait(30) == 0
        await log.read_to_end(10)

    (outcome,) = log.outcomes("img-1")
    assert isinstance(outcome, AssetGenerated)
    assert outcome.prediction_id != first  # a new prediction made the media
    kinds = [type(event).__name__ for event in log.of_asset("img-1")]
    assert "AssetNeedsPromptUpdate" not in kinds
    assert "AssetFailed" not in kinds
    assert await sim_creates(sim_url, "tide pool") == 2
