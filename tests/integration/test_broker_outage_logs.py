"""A broker that goes away for a while is one warning and one recovery line in each service's
log, not aiokafka's thousands of "Unable connect to node" lines. The services run as their
real console scripts against a Kafka broker of the test's own, which the test stops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from shared.testing.private_servers import PrivateServer, free_port, private_kafka
from shared.worker.testing import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

TOKEN = "outage-test-token"
OUTAGE_S = 8
STARTED = {
    "lecturegen-image-worker": "worker started",
    "lecturegen-dispatcher": "dispatcher started",
    "lecturegen-timeline-projector": "timeline projector started",
}


@pytest.fixture
def broker(unique_name: str) -> Iterator[PrivateServer]:
    with private_kafka(f"kafka-outage-{unique_name}") as server:
        yield server


@pytest.fixture
async def services(
    broker: PrivateServer, pg_database: str, unique_name: str, tmp_path: Path
) -> AsyncIterator[dict[str, WorkerProcess]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LECTUREGEN_", "MEDIA_"))}
    api_port = free_port()
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=broker.address,
        DATABASE_URL=pg_database,
        LECTUREGEN_TOPIC_NAMESPACE=f"t{unique_name}.",
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="2",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="1",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        REPLICATE_BASE_URL="http://127.0.0.1:9",
        REPLICATE_API_TOKEN="test",
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        LECTUREGEN_IMAGE_WORKER_METRICS_PORT="0",
        LECTUREGEN_DISPATCHER_METRICS_PORT="0",
        LECTUREGEN_PROJECTOR_METRICS_PORT="0",
        LECTUREGEN_API_PORT=str(api_port),
        LECTUREGEN_API_TOKENS=TOKEN,
        LECTUREGEN_API_KAFKA_TIMEOUT_MS="3000",
    )
    scripts = [*STARTED, "lecturegen-api"]
    running = {s: WorkerProcess(s, env, tmp_path / f"{s}.log") for s in scripts}
    try:
        for process in running.values():
            await process.start()
        await _started(running, f"http://127.0.0.1:{api_port}")
        yield running
    finally:
        for process in running.values():
            await process.kill()


async def _started(services: dict[str, WorkerProcess], api_url: str) -> None:
    async with asyncio.timeout(60), httpx.AsyncClient(base_url=api_url) as client:
        while True:
            messages = {s: {line.get("message") for line in p.lines()} for s, p in services.items()}
            if all(STARTED[s] in messages[s] for s in STARTED):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            await asyncio.sleep(0.2)


def _about_the_broker(line: dict[str, object]) -> bool:
    text = str(line.get("message", "")) + str(line.get("exc_info", ""))
    return (
        line.get("dependency") == "kafka"
        or str(line.get("logger", "")).startswith("aiokafka")
        or any(word in text for word in ("Kafka", "kafka", "broker", "Unable connect"))
    )


async def _post_lecture(client: httpx.AsyncClient) -> int:
    answer = await client.post(
        "/v1/lectures",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"title": "outage", "segments": [{"duration_s": 5, "image": {"prompt": "x"}}]},
    )
    return answer.status_code


async def _accepted(client: httpx.AsyncClient, within_s: float) -> int:
    """Post until the API accepts (its broker is back); the last status."""
    async with asyncio.timeout(within_s):
        while True:
            status = await _post_lecture(client)
            if status == 202:
                return status
            await asyncio.sleep(1)


async def _recovered(
    services: dict[str, WorkerProcess], before: dict[str, int], within_s: float
) -> None:
    """Wait until every service has logged the start and the end of the outage."""
    async with asyncio.timeout(within_s):
        while True:
            ended = [
                [line["level"] for line in _outage_lines(p, before[s])][-1:] == ["info"]
                for s, p in services.items()
            ]
            if all(ended):
                return
            await asyncio.sleep(0.5)


def _outage_lines(process: WorkerProcess, since: int) -> list[dict[str, object]]:
    return [line for line in process.lines()[since:] if line.get("dependency") == "kafka"]


async def test_a_broker_outage_is_one_warning_and_one_recovery_line_per_service(
    broker: PrivateServer, services: dict[str, WorkerProcess]
) -> None:
    before = {s: len(p.lines()) for s, p in services.items()}
    api_url = f"http://127.0.0.1:{services['lecturegen-api']._env['LECTUREGEN_API_PORT']}"
    async with httpx.AsyncClient(base_url=api_url, timeout=20) as client:
        await asyncio.to_thread(broker.stop)
        # the API writes an event meanwhile, so its producer meets the outage too
        during = await _post_lecture(client)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(broker.start)
        after = await _accepted(client, within_s=60)
        await _recovered(services, before, within_s=60)
        await asyncio.sleep(2)  # room for more lines, if any were coming

    assert (during, after) == (503, 202)
    for script, process in services.items():
        assert process.process is not None
        assert process.process.returncode is None, f"{script} exited"
        lines = [line for line in process.lines()[before[script] :] if _about_the_broker(line)]
        assert len(lines) < 20, (script, lines)
        # one warning, a reminder a minute if the broker is slow to come back, one info line
        outage = [str(line["level"]) for line in _outage_lines(process, before[script])]
        assert outage[0] == "warning", (script, lines)
        assert outage[-1] == "info", (script, lines)
        assert outage.count("info") == 1, (script, lines)
