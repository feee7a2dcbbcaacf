"""`CompletionBoard`: the completed predictions webhooks reported, handed to the attempts that
wait on them.

A completion may arrive before its attempt starts waiting (the webhook can beat the create's
answer), after it stopped (a fallback poll won), twice (a duplicated delivery), or for another
process's prediction; the board keeps the last few unclaimed ones for a late waiter and
forgets the rest. Nothing here decides an outcome: the waiting attempt does, once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
Completion = Mapping[str, Any]


class CompletionBoard:
    """Completions by prediction id, for the attempts of one process."""

    def __init__(self, keep_unclaimed: int = 4096) -> None:
        self._keep = keep_unclaimed
        self._waiting: dict[str, list[asyncio.Future[Completion]]] = {}
        self._unclaimed: OrderedDict[str, Completion] = OrderedDict()

    def post(self, prediction: Completion) -> bool:
        """Hand a reported prediction to its waiter, or keep it for one; False when it is not
        a completed prediction (no id, or a status that has not ended)."""
        prediction_id = prediction.get("id")
        if not isinstance(prediction_id, str) or prediction.get("status") not in TERMINAL:
            return False
        waiters = [w for w in self._waiting.get(prediction_id, ()) if not w.done()]
        if waiters:
            for waiter in waiters:  # two turns of one process may resume the same prediction
                waiter.set_result(prediction)
            return True
        self._unclaimed[prediction_id] = prediction
        self._unclaimed.move_to_end(prediction_id)
        while len(self._unclaimed) > self._keep:
            self._unclaimed.popitem(last=False)
        return True

    async def wait(self, prediction_id: str, timeout_s: float) -> Completion | None:
        """The completion of `prediction_id` once reported, or None after `timeout_s`."""
        known = self._unclaimed.pop(prediction_id, None)
        if known is not None:
            return known
        waiter: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(prediction_id, []).append(waiter)
        try:
            async with asyncio.timeout(timeout_s):
                return await waiter
        except TimeoutError:
            return None
        finally:
            waiters = self._waiting[prediction_id]
            waiters.remove(waiter)
            if not waiters:
                del self._waiting[prediction_id]

    @property
    def waiting(self) -> int:
        """Attempts waiting right now."""
        return sum(len(waiters) for waiters in self._waiting.values())
