"""A throwaway PostgreSQL server of ``deploy/local/postgres.sh`` that a fault test may stop,
kill and start at will, without touching the server every other test uses.

It listens on a port picked at run time and keeps its data under the checkout's ``.local/``
(``LECTUREGEN_LOCAL_DIR`` of the script), removed when the block ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.testing.infra import InfraUnavailableError, find_repo_root

_SCRIPT_TIMEOUT_S = 120


@dataclass(frozen=True)
class PrivatePostgres:
    """A running private server: its DSN, and how to stop and start it again."""

    dsn: str
    env: dict[str, str]

    def stop(self) -> None:
        self._run("stop")

    def start(self) -> None:
        self._run("start")

    def _run(self, action: str) -> None:
        result = subprocess.run(
            [str(find_repo_root() / "deploy" / "local" / "postgres.sh"), action],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=_SCRIPT_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise InfraUnavailableError(
                f"postgres.sh {action} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private server for the duration of the block; stopped and deleted afterwards."""
    state_dir = find_repo_root() / ".local" / f"test-postgres-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    env = {**os.environ, "LECTUREGEN_LOCAL_DIR": str(state_dir), "LECTUREGEN_POSTGRES_PORT": port}
    server = PrivatePostgres(f"postgresql://lecturegen@127.0.0.1:{port}/lecturegen", env)
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(state_dir, ignore_errors=True)


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])
