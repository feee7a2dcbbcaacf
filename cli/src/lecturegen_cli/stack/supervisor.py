"""Runs the pipeline's processes, restarts the ones that crash, and stops them all cleanly.

Every child runs in its own session (its own process group), with its output appended to its
log file, so a Ctrl-C in the terminal reaches only the supervisor, which then stops the
children in order: SIGTERM to each group, a grace period, SIGKILL for stragglers.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from lecturegen_cli.processes import group_alive, signal_group, start_ticks
from lecturegen_cli.stack.restart import Backoff, RestartPolicy
from lecturegen_cli.state import ProcessRecord, ProcessState

STOP_GRACE_S = 40.0
"""How long each stage of a shutdown may take before SIGKILL: the workers' own grace for calls
in flight (30 s by default) and a margin."""

COMMAND_NOT_STARTED = 127
"""The exit code recorded when a command could not be started at all (as a shell does)."""


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One process to keep running."""

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    """Its whole environment."""
    address: str | None = None
    """Where it can be reached (URL or host:port), for `status`."""
    stop_stage: int = 0
    """Stages stop in ascending order: producers before the processes they feed."""
    replica_of: str | None = None
    """The component it is one replica of, when that runs more than once."""


class Supervisor:
    """Keeps a set of processes running until `stop` is called."""

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        log_dir: Path,
        cwd: Path,
        policy: RestartPolicy | None = None,
        on_change: Callable[[ProcessRecord], None] = lambda record: None,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._log_dir = log_dir
        self._cwd = cwd
        self._policy = policy or RestartPolicy()
        self._on_change = on_change
        self._say = say
        self._clock = clock
        self._stopping = asyncio.Event()
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.records = {
            spec.name: ProcessRecord(
                name=spec.name,
                command=spec.command,
                address=spec.address,
                log=str(self.log_file(spec.name)),
                replica_of=spec.replica_of,
            )
            for spec in specs
        }

    def log_file(self, name: str) -> Path:
        return self._log_dir / f"{name}.log"

    def start(self) -> None:
        """Start every process and keep it running in the background."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._tasks = [
            asyncio.create_task(self._keep_running(spec), name=f"supervise {spec.name}")
            for spec in self._specs.values()
        ]

    async def stop(self, grace_s: float = 15.0) -> None:
        """Stop every process, stage by stage, and wait until all have exited."""
        self._stopping.set()
        for stage in sorted({spec.stop_stage for spec in self._specs.values()}):
            names = [n for n, spec in self._specs.items() if spec.stop_stage == stage]
            await self._stop_group(names, grace_s)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for name, record in self.records.items():
            self._update(name, replace(record, state=ProcessState.STOPPED, pid=None))

    async def _stop_group(self, names: Sequence[str], grace_s: float) -> None:
        """SIGTERM each process's group, wait up to `grace_s` for the groups to empty (a
        process's own children included), then SIGKILL what is left."""
        procs = {n: p for n in names if (p := self._procs.get(n)) and p.returncode is None}
        for proc in procs.values():
            signal_group(proc.pid, signal.SIGTERM)
        deadline = self._clock() + grace_s
        waits = [asyncio.create_task(proc.wait()) for proc in procs.values()]
        if waits:
            await asyncio.wait(waits, timeout=grace_s)
        pending = [n for n, p in self._procs.items() if n in names and group_alive(p.pid)]
        while pending and self._clock() < deadline:
            await asyncio.sleep(0.05)  # other processes' exits: nothing to await but time
            pending = [n for n in pending if group_alive(self._procs[n].pid)]
        for name in pending:
            self._say(f"{name} did not stop within {grace_s:g}s; killing it")
            signal_group(self._procs[name].pid, signal.SIGKILL)
        await asyncio.gather(*waits)
        killed_by = self._clock() + 5.0
        while pending and self._clock() < killed_by:
            await asyncio.sleep(0.05)  # SIGKILL is delivered asynchronously
            pending = [n for n in pending if group_alive(self._procs[n].pid)]

    async def _keep_running(self, spec: ProcessSpec) -> None:
        backoff = Backoff(self._policy)
        last_exit: int | None = None
        while not self._stopping.is_set():
            proc = await self._spawn(spec)
            backoff.started(self._clock())
            if proc is None:
                code = COMMAND_NOT_STARTED
            else:
                if last_exit is not None:
                    self._say(f"restarted {spec.name} (exit {last_exit})")
                code = await proc.wait()
            if self._stopping.is_set():
                break
            last_exit = code
            delay = backoff.exited(self._clock())
            crashed = replace(
                self.records[spec.name], state=ProcessState.CRASHED, pid=None, last_exit=code
            )
            self._update(spec.name, crashed)
            self._say(
                f"{spec.name} exited ({code}); restarting in {delay:g}s — "
                f"log: {self.log_file(spec.name)}"
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
            if not self._stopping.is_set():
                self._update(spec.name, replace(crashed, restarts=crashed.restarts + 1))

    async def _spawn(self, spec: ProcessSpec) -> asyncio.subprocess.Process | None:
        log_path = self.log_file(spec.name)
        with log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            shown = shlex.join(spec.command).replace("\n", "\\n")
            log.write(f"--- {stamp} starting: {shown}\n".encode())
            log.flush()
            try:
                proc = await asyncio.create_subprocess_exec(
                    *spec.command,
                    env=dict(spec.env),
                    cwd=self._cwd,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                log.write(f"--- could not start {spec.command[0]}: {exc}\n".encode())
                return None
        self._procs[spec.name] = proc
        record = self.records[spec.name]
        self._update(
            spec.name,
            replace(
                record,
                state=ProcessState.RUNNING,
                pid=proc.pid,
                start_ticks=start_ticks(proc.pid),
            ),
        )
        return proc

    def _update(self, name: str, record: ProcessRecord) -> None:
        self.records[name] = record
        self._on_change(record)
