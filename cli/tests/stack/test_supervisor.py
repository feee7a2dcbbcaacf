import asyncio
import os
import sys

from lecturegen_cli.processes import is_alive, start_ticks
from lecturegen_cli.stack.restart import RestartPolicy
from lecturegen_cli.stack.supervisor import COMMAND_NOT_STARTED, ProcessSpec, Supervisor
from lecturegen_cli.state import ProcessState

FAST = RestartPolicy(initial_delay_s=0.05, factor=2.0, max_delay_s=0.2, healthy_after_s=30.0)


def _python(name: str, code: str, stop_stage: int = 0) -> ProcessSpec:
    return ProcessSpec(name, (sys.executable, "-c", code), dict(os.environ), stop_stage=stop_stage)


class Said:
    """Collects what the supervisor says and lets a test wait for a line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self._changed.set()

    async def wait_for(self, text: str, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not any(text in line for line in self.lines):
                self._changed.clear()
                await self._changed.wait()


async def _wait_until(predicate, timeout_s: float = 10.0) -> None:
    """Poll: the conditions here are about other processes and files, nothing to await."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def _pid_line_written(log) -> bool:
    text = log.read_text() if log.exists() else ""
    return text.endswith("\n") and len(text.splitlines()) >= 2


async def test_a_process_killed_by_a_signal_is_restarted_and_the_restart_is_announced(tmp_path):
    said = Said()
    supervisor = Supervisor(
        [_python("sleeper", "import time; time.sleep(60)")],
        log_dir=tmp_path,
        cwd=tmp_path,
        policy=FAST,
        say=said,
    )
    supervisor.start()
    try:
        await _wait_until(lambda: supervisor.records["sleeper"].pid is not None)
        first = supervisor.records["sleeper"].pid
        os.kill(first, 9)
        await said.wait_for("restarted sleeper (exit -9)")
        record = supervisor.records["sleeper"]
        assert record.state is ProcessState.RUNNING
        assert record.restarts == 1
        assert record.last_exit == -9
        assert record.pid not in (None, first)
    finally:
        await supervisor.stop(grace_s=5)


async def test_stop_terminates_each_process_group_and_kills_what_ignores_sigterm(tmp_path):
    stubborn = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    supervisor = Supervisor(
        [_python("stubborn", stubborn), _python("polite", "import time; time.sleep(60)", 1)],
        log_dir=tmp_path,
        cwd=tmp_path,
        policy=FAST,
        say=lambda line: None,
    )
    supervisor.start()
    log = tmp_path / "stubborn.log"
    try:
        await _wait_until(
            lambda: (
                log.exists()
                and log.read_text().endswith("\n")
                and len(log.read_text().splitlines()) >= 2
            )
        )
        grandchild = int(log.read_text().splitlines()[-1])
        grandchild_ticks = start_ticks(grandchild)
        pids = {name: (r.pid, r.start_ticks) for name, r in supervisor.records.items()}
    finally:
        await supervisor.stop(grace_s=0.5)

    assert not any(is_alive(pid, ticks) for pid, ticks in pids.values())
    assert not is_alive(grandchild, grandchild_ticks)
    assert {r.state for r in supervisor.records.values()} == {ProcessState.STOPPED}


async def test_a_command_that_cannot_start_is_recorded_as_crashed_with_exit_127(tmp_path):
    changes = []
    supervisor = Supervisor(
        [ProcessSpec("ghost", ("lecturegen-no-such-command",), dict(os.environ))],
        log_dir=tmp_path,
        cwd=tmp_path,
        policy=FAST,
        on_change=changes.append,
        say=lambda line: None,
    )
    supervisor.start()
    try:
        await _wait_until(lambda: supervisor.records["ghost"].restarts >= 2)
        assert any(
            c.state is ProcessState.CRASHED and c.last_exit == COMMAND_NOT_STARTED for c in changes
        )
        assert "could not start lecturegen-no-such-command" in (tmp_path / "ghost.log").read_text()
    finally:
        await supervisor.stop(grace_s=1)
