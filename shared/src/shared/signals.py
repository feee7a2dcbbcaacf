"""The signals that ask a process to stop, routed to its `stop` while a block runs. Part of how
every service runs (`shared.service`), kept apart so `lecturegen up` can use it without
importing the rest."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator, Sequence

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""The signals that ask a service to stop cleanly."""


@contextlib.contextmanager
def stop_signals(
    stop: Callable[[], None], signals: Sequence[signal.Signals] = STOP_SIGNALS
) -> Iterator[None]:
    """Within the block, each of `signals` calls `stop` (on the running loop)."""
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
