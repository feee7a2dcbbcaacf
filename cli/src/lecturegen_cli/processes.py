"""Identifying and stopping processes by pid without hitting a stranger that reused the pid."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22), or
    None if there is no such process. A pid plus its start time names one process for good."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None  # a zombie has exited; only its exit status is left
    return int(fields[19])


def is_alive(pid: int | None, ticks: int | None) -> bool:
    """Whether the process that had `pid` and start time `ticks` still runs."""
    if pid is None or pid <= 0:
        return False
    now = start_ticks(pid)
    return now is not None and (ticks is None or now == ticks)


def group_alive(pgid: int) -> bool:
    """Whether any process (zombies aside) is still in process group `pgid`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = raw[raw.rfind(")") + 2 :].split()[:3]
        if state != "Z" and int(pgrp) == pgid:
            return True
    return False


def signal_group(pid: int, sig: signal.Signals) -> bool:
    """Send `sig` to the process group led by `pid` (each child runs in its own session), or to
    the process alone when it leads no group; False when it is already gone."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        pass
    except PermissionError:
        return False
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def terminate(
    targets: Iterable[tuple[int, int | None]],
    grace_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[int]:
    """SIGTERM the process group of every live `(pid, start ticks)` target (each leads its
    own), wait up to `grace_s` for the groups to empty, SIGKILL what is left. Returns the
    pids whose groups had to be killed."""
    live = [pid for pid, ticks in targets if is_alive(pid, ticks)]
    for pid in live:
        signal_group(pid, signal.SIGTERM)
    deadline = clock() + grace_s
    while live and clock() < deadline:
        sleep(0.1)
        live = [pid for pid in live if group_alive(pid)]
    for pid in live:
        signal_group(pid, signal.SIGKILL)
    return live
