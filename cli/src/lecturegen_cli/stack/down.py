"""`lecturegen down`: stop the supervisor found through the state file, and any child it left."""

from __future__ import annotations

import os
import signal
import time

from rich.console import Console

from lecturegen_cli.paths import RunPaths
from lecturegen_cli.processes import is_alive, terminate
from lecturegen_cli.stack.components import pipeline
from lecturegen_cli.stack.infra import InfraError, stop_infra
from lecturegen_cli.stack.recorder import stopped
from lecturegen_cli.stack.supervisor import STOP_GRACE_S
from lecturegen_cli.state import Phase, read_state, write_state


def down(paths: RunPaths, console: Console, *, infra: bool, grace_s: float) -> int:
    """Stop the run; with `infra`, Kafka and PostgreSQL too. Returns the exit code."""
    state = read_state(paths.state_file)
    if state is None:
        console.print(f"no run recorded in {paths.state_file}")
    else:
        pid, ticks = state.supervisor_pid, state.supervisor_ticks
        if pid is not None and is_alive(pid, ticks):
            console.print(f"stopping the supervisor (pid {pid}) ...")
            os.kill(pid, signal.SIGTERM)
            # The supervisor gives each stage of its shutdown up to STOP_GRACE_S.
            stages = len({c.stop_stage for c in pipeline(with_sim=True)})
            if not _wait_gone(pid, ticks, timeout_s=stages * STOP_GRACE_S + 10):
                console.print(f"[yellow]the supervisor (pid {pid}) did not exit; killing it[/]")
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, ticks, timeout_s=5)
        children = [(r.pid, r.start_ticks) for r in state.processes.values() if r.pid]
        killed = terminate(children, grace_s)
        if killed:
            console.print(f"[yellow]killed leftover processes: {killed}[/]")
        final = read_state(paths.state_file) or state
        if final.phase is not Phase.STOPPED:
            # The supervisor died without recording its end: record it for `status`.
            write_state(paths.state_file, stopped(final))
        console.print("lecturegen stopped")
    if infra:
        console.print("stopping PostgreSQL and Kafka ...")
        try:
            stop_infra(paths, dict(os.environ), console.print)
        except InfraError as exc:
            console.print(f"[red]error:[/] {exc}")
            return 1
    return 0


def _wait_gone(pid: int, ticks: int | None, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_alive(pid, ticks):
            return True
        time.sleep(0.1)
    return not is_alive(pid, ticks)
