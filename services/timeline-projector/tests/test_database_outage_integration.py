"""The projector process under a PostgreSQL outage: a private server (the project's own
runner, on a free port, its data under `.local/`) stopped and started again under it."""

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.testing.infra import InfraUnavailableError, find_repo_root, run_local_script
from timeline_projector import generations
from timeline_projector.config import Settings
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import Projection, expected_rows, make_settings, stored_rows

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """`deploy/local/postgres.sh` on a port and data directory of its own."""

    def __init__(self, state: Path) -> None:
        self.port = free_port()
        self.env = {"LECTUREGEN_LOCAL_DIR": str(state), "LECTUREGEN_POSTGRES_PORT": str(self.port)}
        self.dsn = f"postgresql://lecturegen@127.0.0.1:{self.port}/lecturegen"

    def run(self, action: str) -> None:
        result = run_local_script("postgres", action, env=self.env)
        if result.returncode != 0:
            raise InfraUnavailableError(f"postgres.sh {action}: {result.stdout}{result.stderr}")


@contextmanager
def private_postgres(name: str) -> Iterator[PrivatePostgres]:
    state = find_repo_root() / ".local" / "private" / name
    server = PrivatePostgres(state)
    try:
        server.run("start")
        yield server
    finally:
        run_local_script("postgres", "stop", env=server.env)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
async def outage_projection(
    kafka_bootstrap: str, unique_name: str
) -> AsyncIterator[tuple[Projection, PrivatePostgres]]:
    with private_postgres(f"pg-{unique_name}") as server:
        settings = make_settings(kafka_bootstrap, server.dsn, unique_name, batch_size=20)
        projection = Projection(settings)
        await projection.create_topic()
        yield projection, server


def projector_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "LECTUREGEN_TOPIC_NAMESPACE": settings.kafka.topic_namespace,
        "DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_PROJECTOR_GROUP_ID": settings.projector.group_id,
        "LECTUREGEN_PROJECTOR_BATCH_SIZE": "20",
        "LECTUREGEN_PROJECTOR_POLL_TIMEOUT_MS": "100",
        "LECTUREGEN_PROJECTOR_METRICS_HOST": "127.0.0.1",
        "LECTUREGEN_PROJECTOR_METRICS_PORT": "0",
    }


async def start_projector(settings: Settings, log_file: Path) -> asyncio.subprocess.Process:
    with log_file.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "timeline_projector",
            env=projector_env(settings),
            stdout=out,
            stderr=out,
        )


async def stop_projector(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=30)


def log_lines(log_file: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]


def about_postgres(lines: list[dict[str, object]]) -> list[tuple[object, str]]:
    """(level, message up to its first number or colon) of every line about the database."""
    return [
        (x["level"], str(x["message"]).split(":")[0].split(" after ")[0])
        for x in lines
        if x.get("dependency") == "postgresql"
    ]


async def applied(projection: Projection) -> int:
    try:
        return sum((await projection.applied_offsets()).values())
    except OSError:
        return -1


async def assert_views_match(projection: Projection, log: list) -> None:  # type: ignore[type-arg]
    conn = await projection.connect()
    try:
        generation = await generations.current(conn)
        assert generation is not None
        assert await stored_rows(conn, generation.schema) == expected_rows(log)
    finally:
        await conn.close()


async def test_a_projector_waits_out_a_database_outage_quietly_and_resumes_without_loss(
    outage_projection: tuple[Projection, PrivatePostgres], tmp_path: Path
) -> None:
    projection, server = outage_projection
    log = list(synthetic_log(12, seed=41))
    before, during = log[: len(log) // 2], log[len(log) // 2 :]
    output = tmp_path / "projector.log"
    process = await start_projector(projection.settings, output)
    try:
        await projection.produce(before)
        await projection.wait_caught_up()

        await asyncio.to_thread(server.run, "stop")
        await projection.produce(during)  # arrives while the database is away
        await asyncio.sleep(6)  # several tries fail meanwhile
        assert process.returncode is None, output.read_text()
        await asyncio.to_thread(server.run, "start")

        await projection.wait_caught_up(timeout_s=60)
        assert process.returncode is None, output.read_text()
    finally:
        code = await stop_projector(process)

    assert code == 0, output.read_text()
    await assert_views_match(projection, log)
    lines = log_lines(output)
    assert about_postgres(lines) == [
        ("warning", "postgresql is unreachable; waiting for it"),
        ("info", "postgresql is reachable again"),
    ]
    assert not [x for x in lines if x["level"] == "error" or "exc_info" in x], output.read_text()


async def test_a_projector_started_while_the_database_is_down_waits_for_it(
    outage_projection: tuple[Projection, PrivatePostgres], tmp_path: Path
) -> None:
    projection, server = outage_projection
    log = list(synthetic_log(4, seed=42))
    await projection.produce(log)
    await asyncio.to_thread(server.run, "stop")
    output = tmp_path / "projector.log"
    process = await start_projector(projection.settings, output)
    try:
        deadline = time.monotonic() + 60
        while not about_postgres(log_lines(output)):  # it has tried, and found it down
            assert process.returncode is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        assert process.returncode is None, output.read_text()
        await asyncio.to_thread(server.run, "start")
        deadline = time.monotonic() + 60
        await projection.wait_caught_up(timeout_s=deadline - time.monotonic())
    finally:
        code = await stop_projector(process)

    assert code == 0, output.read_text()
    await assert_views_match(projection, log)
    assert about_postgres(log_lines(output)) == [
        ("warning", "postgresql is unreachable; waiting for it"),
        ("info", "postgresql is reachable again"),
    ]
