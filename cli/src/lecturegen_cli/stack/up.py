"""`lecturegen up`: Kafka and PostgreSQL, the topics, then every service as a supervised child
process, until Ctrl-C (or `lecturegen down`) stops them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console

from lecturegen_cli.api_client import LectureApi
from lecturegen_cli.paths import RunPaths
from lecturegen_cli.processes import is_alive, start_ticks, terminate
from lecturegen_cli.sockets import free_port, port_is_free
from lecturegen_cli.stack.banner import print_banner
from lecturegen_cli.stack.hangup import OnHangup, stop_signals
from lecturegen_cli.stack.infra import InfraError, start_infra
from lecturegen_cli.stack.launch import plan_launch
from lecturegen_cli.stack.recorder import StateRecorder, stopped
from lecturegen_cli.stack.supervisor import STOP_GRACE_S, ProcessSpec, Supervisor
from lecturegen_cli.stack.topic_setup import ensure_pipeline_topics
from lecturegen_cli.state import Consumer, Phase, RunState, read_state, write_state
from shared.settings import KafkaSettings, PostgresSettings, RetrySettings

AfterReady = Callable[[RunState], Coroutine[object, None, object]]
"""Something to run once the API is ready (the demo), given the run's state."""


def already_running(paths: RunPaths) -> RunState | None:
    """The state of a run whose supervisor is still alive, if there is one."""
    state = read_state(paths.state_file)
    if state and is_alive(state.supervisor_pid, state.supervisor_ticks):
        return state
    return None


def refuse_second_run(paths: RunPaths, console: Console) -> bool:
    """True (after saying so) when a run is going on. Stops the orphans of a run whose
    supervisor died, which would otherwise keep consuming next to the new run and hold its
    ports, and records that run as stopped."""
    running = already_running(paths)
    if running is not None:
        console.print(
            f"[red]lecturegen is already running[/] (supervisor pid {running.supervisor_pid}, "
            f"API {running.api_url}); `lecturegen down` stops it."
        )
        return True
    previous = read_state(paths.state_file)
    if previous is not None and previous.phase is not Phase.STOPPED:
        orphans = [(r.pid, r.start_ticks) for r in previous.processes.values() if r.pid]
        orphans = [(pid, ticks) for pid, ticks in orphans if is_alive(pid, ticks)]
        if orphans:
            console.print(f"stopping {len(orphans)} processes left by a previous run ...")
            terminate(orphans, grace_s=STOP_GRACE_S)
        write_state(paths.state_file, stopped(previous))
    return False


async def serve(
    paths: RunPaths,
    console: Console,
    *,
    infra: bool,
    ready_timeout_s: float,
    after_ready: AfterReady | None = None,
    scale: Mapping[str, int] | None = None,
    on_hangup: OnHangup = OnHangup.STOP,
) -> int:
    """Run the pipeline in this process until SIGINT or SIGTERM (or SIGHUP, unless
    `on_hangup` ignores it); returns the exit code."""
    stop = asyncio.Event()
    with stop_signals(stop, on_hangup):
        return await _serve(paths, console, stop, infra, ready_timeout_s, after_ready, scale)


async def _serve(
    paths: RunPaths,
    console: Console,
    stop: asyncio.Event,
    infra: bool,
    ready_timeout_s: float,
    after_ready: AfterReady | None,
    scale: Mapping[str, int] | None,
) -> int:
    if refuse_second_run(paths, console):
        return 1
    previous = read_state(paths.state_file)

    def say(message: str) -> None:
        console.print(message, soft_wrap=True, highlight=False)

    try:
        if infra:
            say("starting Kafka and PostgreSQL ...")
            await asyncio.to_thread(start_infra, paths, dict(os.environ), say)
        launch = plan_launch(
            os.environ,
            is_free=port_is_free,
            pick_free=free_port,
            new_token=lambda: secrets.token_urlsafe(24),
            scale=scale,
            previous_ports=previous.ports if previous else None,
        )
        # This process is the run's composition root: its settings and every child's
        # environment are the caller's environment plus these decisions.
        os.environ.update(launch.env)
        kafka = KafkaSettings()
        created = await ensure_pipeline_topics()
    except (InfraError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    except Exception as exc:  # the Kafka client's errors share no base class worth naming
        console.print(f"[red]error:[/] could not create the topics on {kafka_address()}: {exc!r}")
        return 1
    if stop.is_set():
        say("stopped before the services were started")
        return 0
    if created:
        say(f"created {len(created)} topics")

    base_env = dict(os.environ)
    specs = [
        ProcessSpec(
            name=name,
            command=_resolved(c.command(launch.ports[name])),
            env=launch.process_env(base_env, c, name),
            address=c.address(launch.ports[name]),
            stop_stage=c.stop_stage,
            replica_of=c.name if len(launch.replicas(c)) > 1 else None,
        )
        for c in launch.components
        for name in launch.replicas(c)
    ]
    policy = RetrySettings().policy()
    consumers = {
        c.name: Consumer(
            topics=tuple(c.consumes.topics(kafka.topic_namespace, policy)),
            group_id=c.consumes.group(launch.process_env(base_env, c)),
            offsets_in_postgres=c.consumes.offsets_in_postgres,
        )
        for c in launch.components
        if c.consumes is not None
    }
    recorder = StateRecorder(
        paths.state_file,
        RunState(
            supervisor_pid=os.getpid(),
            supervisor_ticks=start_ticks(os.getpid()),
            phase=Phase.STARTING,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            api_url=launch.api_url,
            api_token=launch.api_token,
            provider=launch.provider,
            kafka_bootstrap=kafka.bootstrap_servers,
            database_url=PostgresSettings().dsn,
            topic_namespace=kafka.topic_namespace,
            log_dir=str(paths.log_dir),
            consumers=consumers,
            ports=dict(launch.ports),
        ),
    )
    supervisor = Supervisor(
        specs,
        log_dir=paths.log_dir,
        cwd=paths.repo_root,
        on_change=recorder.process_changed,
        say=say,
    )
    supervisor.start()
    tasks: list[asyncio.Task[object]] = []
    try:
        print_banner(console, recorder.state, paths)
        async with httpx.AsyncClient() as client:
            api = LectureApi(client, launch.api_url, launch.api_token)
            ready = await _wait_ready(api, stop, ready_timeout_s, console)
            if ready:
                recorder.phase(Phase.READY)
                say(f"[green]ready[/]: {launch.api_url} — Ctrl-C or `lecturegen down` stops it")
                if after_ready is not None:
                    tasks.append(asyncio.create_task(after_ready(recorder.state)))
            await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        recorder.phase(Phase.STOPPING)
        say("stopping ...")
        await supervisor.stop(STOP_GRACE_S)
        recorder.finished()
        say("stopped")
    return 0


def _resolved(command: tuple[str, ...]) -> tuple[str, ...]:
    """The command with its script looked up beside this Python first (the workspace's
    virtual environment), then on PATH, so `.venv/bin/lecturegen up` works without activation."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(command[0], path=search)
    return (found or command[0], *command[1:])


def kafka_address() -> str:
    return KafkaSettings().bootstrap_servers


async def _wait_ready(
    api: LectureApi, stop: asyncio.Event, timeout_s: float, console: Console
) -> bool:
    """Poll `/readyz` until it answers 200; warn once after `timeout_s` but keep polling,
    because a component may be restarting."""
    deadline = time.monotonic() + timeout_s
    warned = False
    while not stop.is_set():
        if await api.ready():
            return True
        if not warned and time.monotonic() > deadline:
            console.print(
                f"[yellow]the API is not ready after {timeout_s:g}s[/]; still waiting — "
                "see `lecturegen status` and the logs"
            )
            warned = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await stop.wait()
    return False


def start_detached(
    paths: RunPaths,
    console: Console,
    *,
    infra: bool,
    ready_timeout_s: float,
    scale: Mapping[str, int] | None = None,
) -> RunState | None:
    """Start `lecturegen up` as a background process of its own and wait until its API is
    ready; returns the run's state, or None (after saying why) when it did not get there."""
    if refuse_second_run(paths, console):
        return None
    if infra:
        console.print("starting Kafka and PostgreSQL ...")
        try:
            start_infra(paths, dict(os.environ), console.print)
        except InfraError as exc:
            console.print(f"[red]error:[/] {exc}")
            return None
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "lecturegen_cli",
        "up",
        "--no-infra",
        "--ready-timeout",
        str(ready_timeout_s),
        # no terminal to lose: a stray SIGHUP must not stop the run
        "--on-hangup",
        OnHangup.IGNORE.value,
        *(f"--scale={name}={count}" for name, count in (scale or {}).items()),
    ]
    with paths.supervisor_log.open("ab") as log:
        log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} up --detach\n".encode())
        log.flush()
        daemon = subprocess.Popen(
            command,
            cwd=paths.repo_root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    console.print(f"supervisor started in the background (pid {daemon.pid}); waiting for the API")
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            console.print(f"[red]the supervisor exited ({daemon.returncode}) during start-up[/]")
            _show_tail(console, paths)
            return None
        state = read_state(paths.state_file)
        if state and state.supervisor_pid == daemon.pid and state.phase is Phase.READY:
            # Started in its own session and reaped by init: nothing left for us to wait on.
            daemon.returncode = 0
            return state
        time.sleep(0.2)
    console.print(
        f"[red]the API was not ready within {ready_timeout_s:g}s[/]; the supervisor (pid "
        f"{daemon.pid}) keeps trying — `lecturegen status`, `lecturegen down`"
    )
    _show_tail(console, paths)
    daemon.returncode = 0
    return None


def _show_tail(console: Console, paths: RunPaths, lines: int = 30) -> None:
    try:
        tail = paths.supervisor_log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return
    console.print(f"--- last lines of {paths.supervisor_log}", highlight=False)
    for line in tail:
        console.print(line, markup=False, highlight=False)
