"""Where integration tests find a real Kafka broker and a real PostgreSQL server.

Each ``provide_*`` context manager tries, in order:

1. the address in the environment (``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL``);
2. a throwaway container, when ``testcontainers`` is importable and a Docker engine answers;
3. the project's local runners (``deploy/local/kafka.sh``, ``deploy/local/postgres.sh``), which
   start the service once and leave it running for the next test session.

Nothing here runs at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:15"
_SCRIPT_TIMEOUT_S = 600


class InfraUnavailableError(RuntimeError):
    """A service could not be found or started; the message says why and how to fix it."""


class Source(Enum):
    """Who provides a service, which decides whether a test may restart it."""

    ENVIRONMENT = "environment"
    CONTAINER = "testcontainers"
    LOCAL_SCRIPT = "deploy/local"


@dataclass(frozen=True)
class Endpoint:
    """A running service: its address (bootstrap servers or DSN) and who provides it."""

    address: str
    source: Source


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: here) that holds ``deploy/local``."""
    here = (start or Path(__file__)).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "deploy" / "local").is_dir():
            return candidate
    raise InfraUnavailableError(f"no directory above {here} holds deploy/local")


def run_local_script(
    service: str, action: str, *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``deploy/local/<service>.sh <action>`` and return what it printed (never raises)."""
    script = find_repo_root() / "deploy" / "local" / f"{service}.sh"
    return subprocess.run(
        [str(script), action],
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=_SCRIPT_TIMEOUT_S,
        check=False,
    )


def start_local_service(service: str, ready_line: str) -> str:
    """Start a local runner and return the address from its ``<ready_line> <address>`` line."""
    result = run_local_script(service, "start")
    match = re.search(rf"^{re.escape(ready_line)} (\S+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise InfraUnavailableError(
            f"deploy/local/{service}.sh start failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return match.group(1)


def docker_engine_available() -> bool:
    """True when testcontainers is installed and a Docker engine answers ``docker info``."""
    if importlib.util.find_spec("testcontainers") is None or shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@contextmanager
def provide_kafka() -> Iterator[Endpoint]:
    """A Kafka broker for the duration of the block; a container it started is removed."""
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if from_env:
        yield Endpoint(from_env, Source.ENVIRONMENT)
    elif docker_engine_available():
        with _container("testcontainers.kafka", "KafkaContainer", KAFKA_IMAGE) as kafka:
            yield Endpoint(str(kafka.get_bootstrap_server()), Source.CONTAINER)
    else:
        yield Endpoint(start_local_service("kafka", "kafka ready at"), Source.LOCAL_SCRIPT)


@contextmanager
def provide_postgres() -> Iterator[Endpoint]:
    """A PostgreSQL server for the duration of the block; a container it started is removed."""
    from_env = os.environ.get("DATABASE_URL")
    if from_env:
        yield Endpoint(from_env, Source.ENVIRONMENT)
    elif docker_engine_available():
        with _container(
            "testcontainers.postgres", "PostgresContainer", POSTGRES_IMAGE, driver=None
        ) as postgres:
            yield Endpoint(str(postgres.get_connection_url()), Source.CONTAINER)
    else:
        yield Endpoint(start_local_service("postgres", "postgres ready:"), Source.LOCAL_SCRIPT)


@contextmanager
def _container(module: str, class_name: str, image: str, **options: Any) -> Iterator[Any]:
    # testcontainers is optional and untyped, so it is looked up by name, only when used.
    container_class = getattr(importlib.import_module(module), class_name)
    with container_class(image, **options) as container:
        yield container


def with_database(dsn: str, database: str) -> str:
    """``dsn`` pointing at another database on the same server."""
    return urlsplit(dsn)._replace(path=f"/{database}").geturl()
