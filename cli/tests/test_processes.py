import os
import signal
import subprocess
import sys

from lecturegen_cli.processes import group_alive, is_alive, start_ticks, terminate

IGNORE_TERM_AND_SLEEP = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def test_a_pid_is_ours_only_while_its_start_time_matches() -> None:
    me = os.getpid()
    ticks = start_ticks(me)
    assert ticks is not None
    assert is_alive(me, ticks)
    assert not is_alive(me, ticks + 1)
    assert not is_alive(None, None)


def test_terminate_stops_a_polite_group_and_kills_one_that_ignores_sigterm() -> None:
    polite = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    stubborn = subprocess.Popen(
        [sys.executable, "-c", IGNORE_TERM_AND_SLEEP],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stubborn.stdout is not None
        assert stubborn.stdout.readline() == "ready\n"  # its SIGTERM handler is in place
        targets = [(p.pid, start_ticks(p.pid)) for p in (polite, stubborn)]
        killed = terminate(targets, grace_s=0.5)
        polite.wait(timeout=5)
        stubborn.wait(timeout=5)
        assert killed == [stubborn.pid]
        assert polite.returncode == -signal.SIGTERM
        assert stubborn.returncode == -signal.SIGKILL
        assert not group_alive(polite.pid)
        assert not group_alive(stubborn.pid)
    finally:
        for p in (polite, stubborn):
            if p.poll() is None:
                p.kill()
                p.wait()
        if stubborn.stdout is not None:
            stubborn.stdout.close()
