"""A PostgreSQL outage in the middle of a run costs no second provider call and no worker
restart: the worker waits for the database with its calls and their predictions in hand, and
finishes every asset once it is back. The worker runs as its real console script against a
PostgreSQL server of the test's own, which the test stops for about ten seconds."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.settings import KafkaSettings
from shared.testing.private_servers import PrivateServer, private_postgres
from shared.worker.testing import (
    EventLog,
    WorkerProcess,
    command_record,
    produce,
    sim_create_counts,
    sim_creates,
)

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

ASSETS = 30
FLAKY_EVERY = 5
"""Every fifth asset fails transiently once, so retries and their tiers run through the outage."""
OUTAGE_S = 10


@pytest.fixture
def postgres(unique_name: str) -> Iterator[PrivateServer]:
    with private_postgres(f"pg-outage-{unique_name}") as server:
        yield server


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
def kafka(kafka_bootstrap: str, unique_name: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")


@pytest.fixture
async def worker(
    kafka: KafkaSettings,
    postgres: PrivateServer,
    sim_url: str,
    unique_name: str,
    tmp_path: Path,
) -> AsyncIterator[WorkerProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LECTUREGEN_", "MEDIA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        LECTUREGEN_TOPIC_NAMESPACE=kafka.topic_namespace,
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="4",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="2",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        DATABASE_URL=postgres.address,
        REPLICATE_BASE_URL=sim_url,
        REPLICATE_API_TOKEN="test",
        LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        MEDIA_GENERATION_RETRY_BASE_DELAY_S="0.3",
        MEDIA_GENERATION_RETRY_MAX_TIER_S="1.2",
        LECTUREGEN_IMAGE_WORKER_GROUP_ID=f"w{unique_name}",
        LECTUREGEN_IMAGE_WORKER_METRICS_PORT="0",
        LECTUREGEN_IMAGE_WORKER_COMMIT_INTERVAL_S="0.05",
    )
    process = WorkerProcess("lecturegen-image-worker", env, tmp_path / "worker.log")
    yield process
    await process.kill()


def _prompt(i: int) -> str:
    flaky = " [[sim:transient x1]]" if i % FLAKY_EVERY == 0 else ""
    return f"[[sim:latency=2]]{flaky} a tidal pool {i}"


def _commands() -> list[GenerateAsset]:
    return [
        GenerateAsset(
            command_id=f"c-{i}",
            lecture_id=f"lecture-{i % 3}",
            asset_id=f"img-{i}",
            kind=MediaKind.IMAGE,
            prompt_version=1,
            prompt=_prompt(i),
            model="black-forest-labs/flux-schnell",
            requested_at=datetime.now(UTC),
            correlation_id="req-1",
        )
        for i in range(ASSETS)
    ]


async def _wait_for_creates(sim_url: str, count: int, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        while True:
            if await sim_creates(sim_url, "a tidal pool") >= count:
                return
            await asyncio.sleep(0.05)


async def test_a_database_outage_mid_run_costs_no_second_create_and_no_worker_restart(
    kafka: KafkaSettings, postgres: PrivateServer, worker: WorkerProcess, sim_url: str
) -> None:
    commands = _commands()
    await worker.start()
    await worker.started()
    assert worker.process is not None
    pid = worker.process.pid

    async with EventLog(kafka, topics.events(kafka.topic_namespace)) as log:
        await produce(kafka, [command_record(c, kafka.topic_namespace) for c in commands])
        await _wait_for_creates(sim_url, ASSETS // 2, 30)  # calls running, others not started
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(OUTAGE_S)
        assert worker.process.returncode is None, "the worker exited while the database was down"
        await asyncio.to_thread(postgres.start)
        ids = [c.asset_id for c in commands]
        await log.wait_for(lambda: log.ended(*ids), 90, "an outcome for every asset")
        await asyncio.sleep(1)  # room for a duplicate outcome to show up

    assert all(len(log.outcomes(a)) == 1 for a in ids)
    # one create per input, two for those failing once: not one paid twice
    expected = {c.prompt: 2 if "transient" in c.prompt else 1 for c in commands}
    assert await sim_create_counts(sim_url, "a tidal pool") == expected
    # the same process all along: it waited instead of exiting and being restarted
    assert worker.process.returncode is None
    assert worker.process.pid == pid
    lines = worker.lines()
    assert not [line for line in lines if line.get("level") == "error"]
    about_db = [line for line in lines if line.get("dependency") == "postgresql"]
    assert [line["level"] for line in about_db] == ["warning", "info"]
