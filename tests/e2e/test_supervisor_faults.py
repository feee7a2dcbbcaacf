"""`lecturegen up` outlives its terminal: a closed stdout does not stop it supervising, SIGHUP
stops every service cleanly (a detached run ignores it), and the run after a supervisor that
died stops what it left behind and takes the same ports. Real processes throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from lecturegen_cli.processes import group_alive, is_alive

if TYPE_CHECKING:
    from tests.e2e.conftest import LocalRun

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]


def _assert_all_gone(run: LocalRun, processes: list[tuple[int, int | None]]) -> None:
    run.wait_for(
        "every service process to be gone",
        lambda: not any(is_alive(*p) or group_alive(p[0]) for p in processes),
        timeout_s=10,
    )
    state = run.state()
    assert state["phase"] == "stopped"
    assert state["supervisor_pid"] is None
    assert all(p["pid"] is None for p in state["processes"].values())


def test_a_supervisor_whose_stdout_closed_keeps_supervising_and_sighup_stops_everything(
    local_run: LocalRun,
) -> None:
    supervisor = local_run.up(stdout=subprocess.PIPE)
    local_run.wait_ready(supervisor)
    assert supervisor.stdout is not None
    supervisor.stdout.close()  # the terminal (here: the reading end of its pipe) is gone

    worker = local_run.state()["processes"]["image-worker"]
    os.kill(worker["pid"], signal.SIGKILL)  # the supervisor has something to say, and must

    def restarted() -> bool:
        record = local_run.state()["processes"]["image-worker"]
        return record["restarts"] == 1 and record["state"] == "running" and bool(record["pid"])

    local_run.wait_for("the killed worker to be restarted", restarted, timeout_s=30)
    assert supervisor.poll() is None
    supervisor_log = (local_run.log_dir / "supervisor.log").read_text()
    assert "restarted image-worker (exit -9)" in supervisor_log

    children = local_run.children()
    supervisor.send_signal(signal.SIGHUP)
    assert supervisor.wait(timeout=150) == 0
    _assert_all_gone(local_run, children)
    assert "stopped" in (local_run.log_dir / "supervisor.log").read_text().splitlines()[-1]


def test_a_detached_run_ignores_sighup_and_the_next_up_stops_its_orphans_on_the_same_ports(
    local_run: LocalRun,
) -> None:
    started = local_run.lecturegen("up", "--detach", "--no-infra", timeout_s=300)
    assert started.returncode == 0, started.stdout + started.stderr + local_run.logs()
    first = local_run.state()
    supervisor = (first["supervisor_pid"], first["supervisor_ticks"])

    os.kill(supervisor[0], signal.SIGHUP)
    time.sleep(2)
    assert is_alive(*supervisor)
    assert local_run.state()["phase"] == "ready"

    os.kill(supervisor[0], signal.SIGKILL)  # a supervisor that dies without cleaning up
    local_run.wait_for("the supervisor to die", lambda: not is_alive(*supervisor), 10)
    orphans = local_run.children()
    assert orphans
    assert all(is_alive(*p) for p in orphans)
    status = local_run.lecturegen("status", "--json", timeout_s=60)
    assert '"phase": "orphaned"' in status.stdout, status.stdout

    local_run.forget_ports()  # the next run is not told its ports: it finds the last ones
    second = local_run.up()
    local_run.wait_ready(second)

    assert not any(is_alive(*p) for p in orphans)
    assert local_run.state()["ports"] == first["ports"]
    assert local_run.state()["api_url"] == first["api_url"]
    children = local_run.children()
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=150) == 0
    _assert_all_gone(local_run, children)
