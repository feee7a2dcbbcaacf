"""A `lecturegen up` of the test's own, as real processes: its ports, state file, logs, topic
namespace and database are private to the test, so tests can signal, kill and restart it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from lecturegen_cli.processes import is_alive
from shared.testing.infra import Endpoint

LECTUREGEN = str(Path(sys.executable).with_name("lecturegen"))
PORT_VARIABLES = (
    "LECTUREGEN_API_PORT",
    "REPLICATE_SIM_PORT",
    "LECTUREGEN_DISPATCHER_METRICS_PORT",
    "LECTUREGEN_PROJECTOR_METRICS_PORT",
    "LECTUREGEN_IMAGE_WORKER_METRICS_PORT",
    "LECTUREGEN_AUDIO_WORKER_METRICS_PORT",
    "LECTUREGEN_VIDEO_WORKER_METRICS_PORT",
    "LECTUREGEN_MUSIC_WORKER_METRICS_PORT",
)
INFRA_VARIABLES = {
    "LECTUREGEN_KAFKA_PORT",
    "LECTUREGEN_KAFKA_CONTROLLER_PORT",
    "LECTUREGEN_POSTGRES_PORT",
    "LECTUREGEN_LOCAL_DIR",
    "LECTUREGEN_PG_BIN",
}

TERMINAL = {"generated", "needs_prompt_update", "failed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalRun:
    """One test's `lecturegen up`: its environment, files and the supervisors it started."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.run_dir = root / "run"
        self.log_dir = root / "logs"
        self._root = root
        self.supervisors: list[subprocess.Popen[bytes]] = []

    def up(self, *args: str, stdout: int | IO[bytes] | None = None) -> subprocess.Popen[bytes]:
        """`lecturegen up --no-infra ARGS` in the foreground, as a terminal would run it (in a
        session of its own, so only the test's signals reach it)."""
        out = stdout if stdout is not None else (self._root / "up.out").open("ab")
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

    def lecturegen(self, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LECTUREGEN, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.run_dir / "state.json").read_text())
        return data

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

    def api(self) -> httpx.Client:
        """A client of the run's API, signed in with its token."""
        state = self.state()
        return httpx.Client(
            base_url=state["api_url"],
            headers={"Authorization": f"Bearer {state['api_token']}"},
            timeout=30,
        )

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
            return len(assets) == count and all(a["status"] in TERMINAL for a in assets)

        self.wait_for(f"{count} assets to end", all_terminal, timeout_s)
        return assets

    def children(self) -> list[tuple[int, int | None]]:
        """The (pid, start ticks) of every service process the state file names."""
        return [
            (p["pid"], p["start_ticks"]) for p in self.state()["processes"].values() if p["pid"]
        ]

    def logs(self) -> str:
        """The tail of every log of the run, for a failure message."""
        parts = []
        for path in sorted([*self.log_dir.glob("*.log"), *self._root.glob("*.out")]):
            lines = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

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
    env = {
        k: v
        for k, v in os.environ.items()
        if k in INFRA_VARIABLES or not k.startswith(("LECTUREGEN_", "MEDIA_"))
    }
    env.pop("REPLICATE_API_TOKEN", None)
    env.pop("REPLICATE_BASE_URL", None)
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    env.update(
        LECTUREGEN_RUN_DIR=str(tmp_path / "run"),
        LECTUREGEN_LOG_DIR=str(tmp_path / "logs"),
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        LECTUREGEN_TOPIC_NAMESPACE=f"e2e{unique_name}.",
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="6",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="1",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        KAFKA_BOOTSTRAP_SERVERS=kafka_service.address,
        DATABASE_URL=pg_database,
        MEDIA_GENERATION_RETRY_BASE_DELAY_S="0.5",
        LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
    )
    run = LocalRun(env, tmp_path)
    try:
        yield run
    finally:
        run.kill_everything()
