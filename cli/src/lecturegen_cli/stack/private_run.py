"""A `lecturegen up` of its own, for the end-to-end tests, the browser tests and the benchmarks:
its ports, state file, logs, media, topic namespace and database are private to it, and it is
driven through the `lecturegen` command as a person would drive it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lecturegen_cli.processes import is_alive
from lecturegen_cli.sockets import free_port
from lecturegen_cli.stack.components import pipeline

LECTUREGEN = str(Path(sys.executable).with_name("lecturegen"))
"""The `lecturegen` command beside this Python (the workspace's virtual environment)."""

PORT_VARIABLES = tuple(component.port_env for component in pipeline(with_sim=True))
"""The variable of every process's port, each given a free port so runs never collide."""

KEPT_VARIABLES = frozenset(
    {
        "LECTUREGEN_KAFKA_PORT",
        "LECTUREGEN_KAFKA_CONTROLLER_PORT",
        "LECTUREGEN_POSTGRES_PORT",
        "LECTUREGEN_LOCAL_DIR",
        "LECTUREGEN_PG_BIN",
    }
)
"""Where the local Kafka and PostgreSQL scripts put their services: kept from the caller's
environment, so `up --infra` finds the ones the caller uses. Every other variable of
lecturegen's own (`LECTUREGEN_*`, `MEDIA_*`, `REPLICATE_*`) is dropped: the run gets only the
settings it is given."""


def private_env(
    home: Path, *, namespace: str, kafka: str, dsn: str, **settings: str
) -> dict[str, str]:
    """The environment of a private run under `home`: the caller's without lecturegen's own
    settings, a free port for every process, files under `home`, topics in `namespace`, the
    given Kafka and database, then `settings` (variable names as keywords)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in KEPT_VARIABLES or not name.startswith(("LECTUREGEN_", "MEDIA_", "REPLICATE_"))
    }
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    env.update(
        LECTUREGEN_RUN_DIR=str(home / "run"),
        LECTUREGEN_LOG_DIR=str(home / "logs"),
        LECTUREGEN_BLOB_ROOT=str(home / "media"),
        LECTUREGEN_TOPIC_NAMESPACE=namespace,
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        DATABASE_URL=dsn,
    )
    env.update(settings)
    return env


QUICK_TEST_SETTINGS: Mapping[str, str] = {
    "LECTUREGEN_TOPIC_REQUEST_PARTITIONS": "2",
    "LECTUREGEN_TOPIC_TIER_PARTITIONS": "1",
    "LECTUREGEN_TOPIC_EVENTS_PARTITIONS": "2",
    "MEDIA_GENERATION_RETRY_BASE_DELAY_S": "0.5",
    "LECTUREGEN_PROVIDER_POLL_INTERVAL_S": "0.1",
}
"""Few partitions and short waits: a test's lecture ends in seconds."""


@dataclass
class PrivateRun:
    """One private run: its environment and where its files are."""

    env: dict[str, str]
    home: Path
    infra: bool = False
    """Whether `up` starts Kafka and PostgreSQL itself (with the project's scripts)."""

    @property
    def run_dir(self) -> Path:
        return Path(self.env["LECTUREGEN_RUN_DIR"])

    @property
    def log_dir(self) -> Path:
        return Path(self.env["LECTUREGEN_LOG_DIR"])

    def lecturegen(self, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        """`lecturegen ARGS` in this run's environment; its output captured."""
        return subprocess.run(
            [LECTUREGEN, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def start(self, ready_timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
        """`lecturegen up --detach`: returns once the API is ready (or `up` gave up)."""
        infra = "--infra" if self.infra else "--no-infra"
        return self.lecturegen(
            "up",
            "--detach",
            infra,
            "--ready-timeout",
            f"{ready_timeout_s:g}",
            timeout_s=ready_timeout_s + 220,
        )

    def state(self) -> dict[str, Any]:
        """The run's state file, as `up` last wrote it."""
        data: dict[str, Any] = json.loads((self.run_dir / "state.json").read_text())
        return data

    def children(self) -> list[tuple[int, int | None]]:
        """The (pid, start ticks) of every service process the state file names."""
        processes = self.state()["processes"].values()
        return [(p["pid"], p["start_ticks"]) for p in processes if p["pid"]]

    def processes(self) -> list[tuple[int, int | None]]:
        """The supervisor's (pid, start ticks), then the children's."""
        state = self.state()
        return [(state["supervisor_pid"], state["supervisor_ticks"]), *self.children()]

    def api(self) -> httpx.Client:
        """A client of the run's API, signed in with its token."""
        state = self.state()
        return httpx.Client(
            base_url=state["api_url"],
            headers={"Authorization": f"Bearer {state['api_token']}"},
            timeout=30,
        )

    def logs(self, lines: int = 15) -> str:
        """The tail of every log of the run (and of `*.out` files in its home), for a
        failure message."""
        parts = []
        for path in sorted([*self.log_dir.glob("*.log"), *self.home.glob("*.out")]):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self, grace_s: float = 5) -> None:
        """Leave nothing of the run behind: `lecturegen down` while anything of it runs, then
        SIGKILL to the process group of whatever is left."""
        if not (self.run_dir / "state.json").exists():
            return
        ours = self.processes()
        if any(is_alive(*p) for p in ours):
            self.lecturegen("down", "--grace", str(grace_s), timeout_s=120)
        for pid, ticks in ours:
            if is_alive(pid, ticks):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
