"""Webhook mode: how an attempt learns that its prediction ended without polling it.

`WebhookWait` asks Replicate to call the API when the prediction completes (the API puts the
verified body on the `lecturegen.provider.predictions.v1` topic, whose `CompletionFeed` posts it
to a board), gives the attempt's worker slot back while it waits (`Attempt.on_waiting`), and
reads the prediction itself only when no webhook came for `fallback_poll_s`, within
`READ_PATIENCE_S` as every read is (`shared.providers.reads`), so an outage shows within
seconds here too. Predictions waited on this way are bounded by `max_outstanding` per process
instead of by slots.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

from replicate.client import Client
from replicate.prediction import Prediction, _json_to_prediction

from shared.ports import Attempt
from shared.providers.reads import read_prediction
from shared.webhooks.completions import CompletionBoard

_TERMINAL = frozenset({"succeeded", "failed", "canceled"})


class WebhookWait:
    """Wait for the `completed` webhook; read the prediction only when it is late."""

    def __init__(
        self, url: str, board: CompletionBoard, fallback_poll_s: float, max_outstanding: int
    ) -> None:
        self._url = url
        self._board = board
        self._fallback_poll_s = fallback_poll_s
        self._outstanding = asyncio.Semaphore(max_outstanding)
        self.fallback_reads = 0
        """Predictions read because no webhook came in time."""
        self.by_webhook = 0
        """Waits a webhook ended."""
        self.waiting = 0
        """Attempts waiting for a webhook right now."""

    def create_options(self) -> dict[str, Any]:
        return {"webhook": self._url, "webhook_events_filter": ["completed"]}

    def room(self) -> AbstractAsyncContextManager[object]:
        return self._outstanding

    async def wait(self, client: Client, prediction: Prediction, attempt: Attempt) -> Prediction:
        if prediction.status in _TERMINAL:
            return prediction
        if attempt.on_waiting is not None:
            attempt.on_waiting()
        self.waiting += 1
        try:
            while prediction.status not in _TERMINAL:
                completion = await self._board.wait(prediction.id, self._fallback_poll_s)
                if completion is not None:
                    self.by_webhook += 1
                    prediction = _json_to_prediction(client, dict(completion))
                else:
                    self.fallback_reads += 1
                    prediction = await read_prediction(client, prediction.id)
        finally:
            self.waiting -= 1
        return prediction
