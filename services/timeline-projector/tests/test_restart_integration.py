import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.envelope import Envelope
from timeline_projector import generations
from timeline_projector.config import Settings
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import Projection, expected_rows, make_settings, stored_rows

pytestmark = pytest.mark.integration


@pytest.fixture
async def slow_projection(kafka_bootstrap: str, pg_database: str, unique_name: str) -> Projection:
    """A projection that applies small batches, so there is a middle of the stream to stop in."""
    projection = Projection(make_settings(kafka_bootstrap, pg_database, unique_name, batch_size=10))
    await projection.create_topic()
    return projection


async def applied_count(projection: Projection) -> int:
    return sum((await projection.applied_offsets()).values())


async def wait_for_count(projection: Projection, at_least: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while (count := await applied_count(projection)) < at_least:
        assert time.monotonic() < deadline, f"only {count} records applied"
        await asyncio.sleep(0.02)
    return count


async def assert_views_match_the_log(projection: Projection, log: list[Envelope]) -> None:
    conn = await projection.connect()
    try:
        generation = await generations.current(conn)
        assert generation is not None
        assert await stored_rows(conn, generation.schema) == expected_rows(log)
    finally:
        await conn.close()


async def test_a_projector_cancelled_mid_stream_and_restarted_converges_to_the_same_views(
    slow_projection: Projection,
) -> None:
    log = list(synthetic_log(25, seed=11))
    await slow_projection.produce(log)

    async with slow_projection.running():
        stopped_at = await wait_for_count(slow_projection, 100)
    assert stopped_at < len(log), "the projector finished before it could be stopped"

    async with slow_projection.running():
        await slow_projection.wait_caught_up()

    await assert_views_match_the_log(slow_projection, log)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def projector_env(settings: Settings, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "LECTUREGEN_TOPIC_NAMESPACE": settings.kafka.topic_namespace,
        "DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_PROJECTOR_GROUP_ID": settings.projector.group_id,
        "LECTUREGEN_PROJECTOR_BATCH_SIZE": "10",
        "LECTUREGEN_PROJECTOR_POLL_TIMEOUT_MS": "100",
        "LECTUREGEN_PROJECTOR_SESSION_TIMEOUT_MS": "6000",
        "LECTUREGEN_PROJECTOR_METRICS_HOST": "127.0.0.1",
        "LECTUREGEN_PROJECTOR_METRICS_PORT": str(port),
    }


async def start_projector(
    settings: Settings, port: int, log_file: Path
) -> asyncio.subprocess.Process:
    with log_file.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "timeline_projector",
            env=projector_env(settings, port),
            stdout=out,
            stderr=out,
        )


async def get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        return await client.get(path)


async def wait_healthy(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.returncode is None, "the projector exited"
        try:
            if (await get(port, "/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the projector never became healthy"
        await asyncio.sleep(0.1)


async def test_a_killed_projector_process_restarts_where_it_committed_and_stops_cleanly(
    slow_projection: Projection, tmp_path: Path
) -> None:
    log = list(synthetic_log(15, seed=12))
    await slow_projection.produce(log)
    settings, port, output = slow_projection.settings, free_port(), tmp_path / "projector.log"

    process = await start_projector(settings, port, output)
    try:
        await wait_for_count(slow_projection, 50)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    killed_at = await applied_count(slow_projection)
    assert killed_at < len(log), "the projector finished before it could be killed"

    process = await start_projector(settings, port, output)
    try:
        await wait_healthy(port, process)
        await slow_projection.wait_caught_up()
        metrics = (await get(port, "/metrics")).text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)

    assert code == 0, output.read_text()
    assert 'lecturegen_projector_events_applied_total{type="asset.generated"}' in metrics
    assert "lecturegen_projector_lag_seconds" in metrics
    await assert_views_match_the_log(slow_projection, log)
