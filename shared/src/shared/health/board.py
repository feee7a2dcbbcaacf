"""What a process knows of every circuit: the last state published on the health topic.

Waiters are woken on every change, so a held attempt goes on as soon as its circuit lets it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime

from shared.events import ProviderHealthChanged
from shared.health.breaker import State
from shared.health.outcomes import circuit_key


@dataclass(frozen=True, slots=True)
class CircuitView:
    """One circuit as the health topic last described it."""

    state: State
    since: datetime
    unavailable_since: datetime | None = None
    error_rate: float = 0.0
    """Failed share of the window's attempts when the state last changed."""
    reason: str = ""


CLOSED = CircuitView(State.CLOSED, datetime.min)


class CircuitBoard:
    def __init__(self) -> None:
        self._views: dict[str, CircuitView] = {}
        self._changed = asyncio.Condition()
        self.ready = asyncio.Event()
        """Set once the health topic was read up to where it ended at start."""

    def view(self, key: str) -> CircuitView:
        return self._views.get(key, CLOSED)

    def views(self) -> dict[str, CircuitView]:
        return dict(self._views)

    async def apply(self, change: ProviderHealthChanged) -> None:
        key = circuit_key(change.provider, change.model)
        window = change.window
        rate = window.failures / window.attempts if window.attempts else 0.0
        self._views[key] = CircuitView(
            State(change.state), change.since, change.unavailable_since, rate, change.reason
        )
        await self.poke()

    async def poke(self) -> None:
        """Wake every waiter (a circuit changed, or a probe slot came free)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_change(self, timeout_s: float) -> None:
        """Return after the next change, or after `timeout_s`."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout_s)
