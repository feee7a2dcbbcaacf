"""Waiting in unit tests for what other tasks of the same event loop bring about."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], within_s: float = 2.0) -> None:
    """Return as soon as `condition()` holds; raise `TimeoutError` after `within_s`.

    Looks every couple of milliseconds: the tasks it waits for change plain state (a fake's
    lists, a runtime's counters) that has no event to wait on."""
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110 - plain state of other tasks, no event
            await asyncio.sleep(0.002)
