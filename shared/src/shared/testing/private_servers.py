"""A Kafka broker or PostgreSQL server of a test's own, which the test may stop and start:
the project's local runners (`deploy/local/kafka.sh`, `postgres.sh`) on free ports, with
their state under the repository's `.local/private/<name>` (removed afterwards). The shared
servers the other tests use are never touched."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.testing.infra import InfraUnavailableError, find_repo_root, run_local_script


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PrivateServer:
    """One private server: its address, and stop/start that keep its port and data."""

    service: str
    """`kafka` or `postgres`: the runner's name."""
    env: dict[str, str]
    address: str
    """Bootstrap servers or DSN."""

    def stop(self) -> None:
        self._run("stop")

    def start(self) -> None:
        self._run("start")

    def _run(self, action: str) -> None:
        result = run_local_script(self.service, action, env=self.env)
        if result.returncode != 0:
            raise InfraUnavailableError(
                f"deploy/local/{self.service}.sh {action} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )


@contextmanager
def private_postgres(name: str) -> Iterator[PrivateServer]:
    """A running PostgreSQL server of one's own (its `lecturegen` database), stopped and
    removed on exit."""
    state = _state_dir(name)
    env = {"LECTUREGEN_LOCAL_DIR": str(state), "LECTUREGEN_POSTGRES_PORT": str(free_port())}
    with _running("postgres", env, "postgres ready:", state) as server:
        yield server


@contextmanager
def private_kafka(name: str) -> Iterator[PrivateServer]:
    """A running single-node Kafka broker of one's own, stopped and removed on exit. It
    reuses the jars of the repository's local broker when they are there."""
    state = _state_dir(name)
    shared_libs = find_repo_root() / ".local" / "kafka" / "libs"
    if shared_libs.is_dir():  # instead of copying them from Maven Central again
        (state / "kafka").mkdir(parents=True)
        (state / "kafka" / "libs").symlink_to(shared_libs.resolve())
    env = {
        "LECTUREGEN_LOCAL_DIR": str(state),
        "LECTUREGEN_KAFKA_PORT": str(free_port()),
        "LECTUREGEN_KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    with _running("kafka", env, "kafka ready at", state) as server:
        yield server


def _state_dir(name: str) -> Path:
    state = find_repo_root() / ".local" / "private" / name
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    return state


@contextmanager
def _running(service: str, env: dict[str, str], ready: str, state: Path) -> Iterator[PrivateServer]:
    try:
        result = run_local_script(service, "start", env=env)
        match = re.search(rf"^{re.escape(ready)} (\S+)$", result.stdout, re.MULTILINE)
        if result.returncode != 0 or match is None:
            raise InfraUnavailableError(
                f"deploy/local/{service}.sh start failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        yield PrivateServer(service, env, match.group(1))
    finally:
        run_local_script(service, "stop", env=env)
        shutil.rmtree(state, ignore_errors=True)
