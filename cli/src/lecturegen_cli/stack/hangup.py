"""Which signals stop a supervisor, and what a hang-up (SIGHUP: its terminal closed) does.

Python's default for SIGHUP is to die on the spot, without the clean-up that stops the
children (each in its own session, so the hang-up never reaches them): they would run on
unsupervised. A supervisor in the foreground therefore treats SIGHUP like Ctrl-C; one started
with `--detach` has no terminal to lose and ignores it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from shared.signals import STOP_SIGNALS
from shared.signals import stop_signals as service_stop_signals


class OnHangup(StrEnum):
    """What SIGHUP does to a running supervisor."""

    STOP = "stop"
    """Stop the services cleanly and exit, as Ctrl-C does."""
    IGNORE = "ignore"
    """Carry on (a detached supervisor: no terminal is attached that could close)."""


@contextmanager
def stop_signals(stop: asyncio.Event, on_hangup: OnHangup) -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and (per `on_hangup`) SIGHUP set `stop`; SIGHUP is
    ignored otherwise. Restores the previous handlers afterwards."""
    stopping = list(STOP_SIGNALS)
    if on_hangup is OnHangup.STOP:
        stopping.append(signal.SIGHUP)
    previous_hangup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with service_stop_signals(stop.set, stopping):
            yield
    finally:
        signal.signal(signal.SIGHUP, previous_hangup)
