"""The state file of a local run (`.local/run/state.json`): how `down` and `status` find the
supervisor and its children. Only the supervisor writes it; everyone else reads it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

STATE_VERSION = 1


class ProcessState(StrEnum):
    """Where one supervised process stands."""

    STARTING = "starting"
    RUNNING = "running"
    CRASHED = "crashed"
    """It exited on its own; the supervisor restarts it after a backoff delay."""
    STOPPED = "stopped"


class Phase(StrEnum):
    """Where the run as a whole stands."""

    STARTING = "starting"
    READY = "ready"
    """The API answers `/readyz`."""
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One supervised process as the state file records it."""

    name: str
    command: tuple[str, ...]
    state: ProcessState = ProcessState.STARTING
    pid: int | None = None
    start_ticks: int | None = None
    """The pid's start time, so a reused pid is never mistaken for ours."""
    restarts: int = 0
    last_exit: int | None = None
    address: str | None = None
    log: str | None = None
    replica_of: str | None = None
    """The component this process is one replica of, when the run scaled it out."""


@dataclass(frozen=True, slots=True)
class Consumer:
    """Where a consuming process's position is kept, so `status` can compute its lag."""

    topics: tuple[str, ...]
    group_id: str
    offsets_in_postgres: bool = False
    """Its offsets are kept in PostgreSQL next to its views (the projector), not in Kafka."""


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything a local run tells the other commands about itself."""

    supervisor_pid: int | None
    supervisor_ticks: int | None
    phase: Phase
    started_at: str
    api_url: str
    api_token: str
    provider: str
    """`replicate-sim` (the local server) or `replicate` (the real API)."""
    kafka_bootstrap: str
    database_url: str
    topic_namespace: str
    log_dir: str
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    message: str | None = None
    """Why the run failed, when it did."""
    ports: dict[str, int] = field(default_factory=dict)
    """Each process's port, so the next run can take the same ones again."""
    version: int = STATE_VERSION

    def observed_phase(self, supervisor_alive: bool) -> str:
        """The phase as the other commands should report it: a run whose supervisor is gone
        without recording its end is `orphaned`, whatever the file last said."""
        ended = self.phase in (Phase.STOPPED, Phase.FAILED)
        return self.phase.value if ended or supervisor_alive else "orphaned"

    def with_process(self, record: ProcessRecord) -> RunState:
        return replace(self, processes={**self.processes, record.name: record})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["processes"] = {name: asdict(p) for name, p in self.processes.items()}
        data["consumers"] = {name: asdict(c) for name, c in self.consumers.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        processes = {
            name: ProcessRecord(
                **{
                    **raw,
                    "command": tuple(raw["command"]),
                    "state": ProcessState(raw["state"]),
                }
            )
            for name, raw in data.get("processes", {}).items()
        }
        consumers = {
            name: Consumer(**{**raw, "topics": tuple(raw["topics"])})
            for name, raw in data.get("consumers", {}).items()
        }
        fields = {k: v for k, v in data.items() if k not in ("processes", "consumers")}
        fields["phase"] = Phase(fields["phase"])
        return cls(**fields, processes=processes, consumers=consumers)


def write_state(path: Path, state: RunState) -> None:
    """Replace the state file atomically; only its owner may read it (it holds the token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(state.to_json(), out, indent=2)
        out.write("\n")
    tmp.replace(path)


def read_state(path: Path) -> RunState | None:
    """The recorded run, or None when there is no (readable) state file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    try:
        return RunState.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None
