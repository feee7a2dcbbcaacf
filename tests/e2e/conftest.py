"""A `lecturegen up` of the test's own, as real processes: its ports, state file, logs, topic
namespace and database are private to the test, so tests can signal, kill and restart it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from lecturegen_cli.processes import is_alive
from lecturegen_cli.stack.private_run import (
    LECTUREGEN,
    PORT_VARIABLES,
    QUICK_TEST_SETTINGS,
    PrivateRun,
    private_env,
)
from shared.status import TERMINAL_STATUSES
from shared.testing.infra import Endpoint, Source


class LocalRun(PrivateRun):
    """One test's `lecturegen up`: its environment, files and the supervisors it started."""

    def __init__(self, env: dict[str, str], home: Path) -> None:
        super().__init__(env, home)
        self.supervisors: list[subprocess.Popen[bytes]] = []

    def up(self, *args: str, stdout: int | IO[bytes] | None = None) -> subprocess.Popen[bytes]:
        """`lecturegen up --no-infra ARGS` in the foreground, as a terminal would run it (in a
        session of its own, so only the test's signals reach it)."""
        out = stdout if stdout is not None else (self.home / "up.out").open("ab")
        proc = subprocess.Popen(
            [LECTUREGEN, "up", "--no-infra", "--ready-timeout", "180", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if stdout is None:
            out.close()  # type: ignore[union-attr]
        self.supervisors.append(proc)
        return proc

    def forget_ports(self) -> None:
        """From now on `up` is not told which ports to use."""
        for name in PORT_VARIABLES:
            self.env.pop(name, None)

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")

    def wait_ready(self, supervisor: subprocess.Popen[bytes], timeout_s: float = 240) -> None:
        def ready() -> bool:
            assert supervisor.poll() is None, f"up exited ({supervisor.returncode})"
            try:
                state = self.state()
            except (OSError, ValueError):
                return False
            return bool(state["supervisor_pid"] == supervisor.pid and state["phase"] == "ready")

        self.wait_for("the run to be ready", ready, timeout_s)

    def sim_creates(self, contains: str) -> int:
        """Create calls the run's local Replicate-compatible server saw for matching inputs."""
        port = self.state()["ports"]["replicate-sim"]
        response = httpx.get(
            f"http://127.0.0.1:{port}/sim/stats", params={"contains": contains}, timeout=10
        )
        response.raise_for_status()
        return int(response.json()["total_creates"])

    def wait_terminal(self, lecture_id: str, count: int, timeout_s: float) -> list[dict[str, Any]]:
        """The lecture's assets once all `count` of them reached a terminal status."""
        assets: list[dict[str, Any]] = []

        def all_terminal() -> bool:
            nonlocal assets
            with self.api() as api:
                response = api.get(f"/v1/lectures/{lecture_id}/assets")
            if response.status_code == 404:
                return False  # not projected yet
            response.raise_for_status()
            assets = response.json()["assets"]
            return len(assets) == count and all(a["status"] in TERMINAL_STATUSES for a in assets)

        self.wait_for(f"{count} assets to end", all_terminal, timeout_s)
        return assets

    def kill_everything(self) -> None:
        """Leave nothing behind, whatever the test did to the supervisor."""
        for proc in self.supervisors:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        state_file = self.run_dir / "state.json"
        leftovers = [p for p in self.children() if is_alive(*p)] if state_file.exists() else []
        for pid, _ in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def local_run(
    tmp_path: Path,
    kafka_service: Endpoint,
    postgres_service: Endpoint,
    pg_database: str,
    unique_name: str,
) -> Iterator[LocalRun]:
    """A private run's environment: its own ports, topic namespace, database and files."""
    env = private_env(
        tmp_path,
        namespace=f"e2e{unique_name}.",
        kafka=kafka_service.address,
        dsn=pg_database,
        **{**QUICK_TEST_SETTINGS, "LECTUREGEN_TOPIC_REQUEST_PARTITIONS": "6"},
    )
    run = LocalRun(env, tmp_path)
    try:
        yield run
    finally:
        run.kill_everything()


@pytest.fixture
def run(
    tmp_path: Path,
    kafka_service: Endpoint,
    postgres_service: Endpoint,
    pg_database: str,
    unique_name: str,
) -> Iterator[PrivateRun]:
    """A private run as `make run` starts one: `up` starts Kafka and PostgreSQL itself when the
    project's own scripts provide them (services from elsewhere are used as they are)."""
    env = private_env(
        tmp_path,
        namespace=f"e2e{unique_name}.",
        kafka=kafka_service.address,
        dsn=pg_database,
        **QUICK_TEST_SETTINGS,
        LECTUREGEN_IMAGE_WORKER_SESSION_TIMEOUT_MS="6000",
    )
    local = {kafka_service.source, postgres_service.source} == {Source.LOCAL_SCRIPT}
    the_run = PrivateRun(env, tmp_path, infra=local)
    try:
        yield the_run
    finally:
        the_run.stop()
