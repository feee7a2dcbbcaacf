"""Keeps the state file in step with the supervisor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lecturegen_cli.state import Phase, ProcessRecord, ProcessState, RunState, write_state


def stopped(state: RunState) -> RunState:
    """`state` as it reads once the run has ended: no supervisor, no process running. The
    ports stay, so the next run can take the same ones."""
    processes = {
        name: replace(record, state=ProcessState.STOPPED, pid=None, start_ticks=None)
        for name, record in state.processes.items()
    }
    return replace(
        state,
        phase=Phase.STOPPED,
        supervisor_pid=None,
        supervisor_ticks=None,
        processes=processes,
    )


class StateRecorder:
    """Holds the run's current state and writes it out on every change."""

    def __init__(self, path: Path, state: RunState) -> None:
        self._path = path
        self.state = state
        write_state(path, state)

    def process_changed(self, record: ProcessRecord) -> None:
        self._save(self.state.with_process(record))

    def phase(self, phase: Phase, message: str | None = None) -> None:
        self._save(replace(self.state, phase=phase, message=message))

    def finished(self) -> None:
        self._save(stopped(self.state))

    def _save(self, state: RunState) -> None:
        self.state = state
        write_state(self._path, state)
