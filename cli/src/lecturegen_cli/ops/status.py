"""`lecturegen status`: every component of the local run, its state, address and lag."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka.errors import KafkaError

from lecturegen_cli.ops.lag import read_group_lags, read_projector_lag
from lecturegen_cli.ops.status_view import ComponentStatus
from lecturegen_cli.paths import RunPaths
from lecturegen_cli.processes import is_alive
from lecturegen_cli.sockets import accepts_connections
from lecturegen_cli.state import ProcessRecord, ProcessState, RunState, read_state
from shared import topics
from shared.health.board import CircuitView
from shared.health.follower import snapshot
from shared.settings import KafkaSettings, PostgresSettings

Alive = Callable[[int | None, int | None], bool]


def process_row(
    record: ProcessRecord,
    *,
    supervised: bool,
    consumes: bool,
    lag: int | None,
    alive: Alive = is_alive,
    replica: str | None = None,
) -> ComponentStatus:
    """One supervised process as `status` shows it (`replica`: which of its component's
    replicas it is, e.g. `2/3`). Without a live supervisor, a process still running is an
    orphan and everything else is stopped."""
    row = _process_row(record, supervised=supervised, consumes=consumes, lag=lag, alive=alive)
    return replace(row, replica=replica)


def _process_row(
    record: ProcessRecord, *, supervised: bool, consumes: bool, lag: int | None, alive: Alive
) -> ComponentStatus:
    if not supervised:
        if record.pid is not None and alive(record.pid, record.start_ticks):
            return ComponentStatus(
                record.name,
                "orphaned",
                record.address,
                record.pid,
                record.restarts,
                lag,
                consumes,
                "its supervisor is gone; `lecturegen down` stops it",
            )
        return ComponentStatus(record.name, "stopped", record.address, consumes=consumes)
    detail = None
    if record.state is ProcessState.CRASHED:
        detail = f"exit {record.last_exit}; restarting — log {record.log}"
    elif record.restarts and record.last_exit is not None:
        detail = f"last exit {record.last_exit}"
    return ComponentStatus(
        record.name,
        record.state.value,
        record.address,
        record.pid,
        record.restarts,
        lag,
        consumes,
        detail,
    )


def redact_dsn(dsn: str) -> str:
    """The DSN without its password."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


async def gather(paths: RunPaths) -> tuple[RunState | None, list[ComponentStatus]]:
    state = read_state(paths.state_file)
    bootstrap = state.kafka_bootstrap if state else KafkaSettings().bootstrap_servers
    dsn = state.database_url if state else PostgresSettings().dsn
    kafka_up = any(
        accepts_connections(host, int(port))
        for host, _, port in (server.rpartition(":") for server in bootstrap.split(","))
    )
    postgres_up = await _postgres_answers(dsn)
    local = _local_dir(paths)
    rows = [
        ComponentStatus(
            "kafka",
            "running" if kafka_up else "unreachable",
            bootstrap,
            pid=_pid_from(local / "kafka" / "kafka.pid"),
        ),
        ComponentStatus(
            "postgresql",
            "running" if postgres_up else "unreachable",
            redact_dsn(dsn),
            pid=_pid_from(local / "postgres" / "data" / "postmaster.pid"),
        ),
    ]
    if state is None:
        return None, rows
    lags = await _lags(state, kafka_up=kafka_up, postgres_up=postgres_up)
    supervised = is_alive(state.supervisor_pid, state.supervisor_ticks)
    replicas = replica_labels(state)
    for name, record in state.processes.items():
        component = record.replica_of or name
        rows.append(
            process_row(
                record,
                supervised=supervised,
                consumes=component in state.consumers,
                lag=lags.get(component),
                replica=replicas.get(name),
            )
        )
    return state, rows


async def provider_circuits(
    state: RunState | None, rows: list[ComponentStatus]
) -> dict[str, CircuitView]:
    """The run's provider circuits from its health topic; empty when Kafka is away."""
    if state is None or not any(r.name == "kafka" and r.state == "running" for r in rows):
        return {}
    kafka = KafkaSettings(
        bootstrap_servers=state.kafka_bootstrap, topic_namespace=state.topic_namespace
    )
    try:
        return await snapshot(kafka, within_s=10)
    except (KafkaError, OSError, TimeoutError):
        return {}


def replica_labels(state: RunState) -> dict[str, str]:
    """`{process: "i/n"}` for the replicas of each component the run scaled out."""
    groups: dict[str, list[str]] = {}
    for name, record in state.processes.items():
        if record.replica_of:
            groups.setdefault(record.replica_of, []).append(name)
    return {
        name: f"{i}/{len(names)}"
        for names in groups.values()
        for i, name in enumerate(names, start=1)
    }


def run_phase(state: RunState) -> str:
    """The run's phase as `status` reports it: `orphaned` when its supervisor is gone."""
    return state.observed_phase(is_alive(state.supervisor_pid, state.supervisor_ticks))


async def _lags(state: RunState, *, kafka_up: bool, postgres_up: bool) -> dict[str, int | None]:
    if not kafka_up:
        return {}
    by_group = {c.group_id: c.topics for c in state.consumers.values() if not c.offsets_in_postgres}
    lags: dict[str, int | None] = {}
    try:
        group_lags = await asyncio.wait_for(read_group_lags(state.kafka_bootstrap, by_group), 15)
    except (KafkaError, OSError, TimeoutError):
        group_lags = {}  # status shows what it can: an unknown lag reads as "?"
    for name, consumer in state.consumers.items():
        if not consumer.offsets_in_postgres:
            lags[name] = group_lags.get(consumer.group_id)
        elif postgres_up:
            events = topics.events(state.topic_namespace)
            read = read_projector_lag(
                state.kafka_bootstrap, state.database_url, events, consumer.group_id
            )
            try:
                lags[name] = await asyncio.wait_for(read, 15)
            except (KafkaError, OSError, TimeoutError, asyncpg.PostgresError):
                lags[name] = None
    return lags


async def _postgres_answers(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        await connection.fetchval("SELECT 1")
        return True
    finally:
        await connection.close()


def _local_dir(paths: RunPaths) -> Path:
    configured = os.environ.get("LECTUREGEN_LOCAL_DIR")
    return Path(configured) if configured else paths.repo_root / ".local"


def _pid_from(pid_file: Path) -> int | None:
    """The pid in the first line of `pid_file`, if that process is alive."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if is_alive(pid, None) else None
