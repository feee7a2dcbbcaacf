"""Keeps the state file in step with the supervisor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lecturegen_cli.state import Phase, ProcessRecord, RunState, write_state


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
        self._save(
            replace(
                self.state,
                phase=Phase.STOPPED,
                supervisor_pid=None,
                supervisor_ticks=None,
            )
        )

    def _save(self, state: RunState) -> None:
        self.state = state
        write_state(self._path, state)
