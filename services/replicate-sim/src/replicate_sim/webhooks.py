"""Webhooks: when a prediction created with `webhook` ends, POST it there, signed as Replicate
signs (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` =
`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` under the server's `whsec_` secret).

Only the `completed` event is sent (when `webhook_events_filter` is absent or names it). A
delivery answered 5xx, 408, 429 or not at all is sent again later with the same `webhook-id`;
any other answer ends it. The `[[sim:webhook-*]]` directives drop, duplicate, delay or mis-sign
it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from replicate_sim import problems
from replicate_sim.directives import WebhookFaults
from replicate_sim.predictions import Prediction
from replicate_sim.problems import ProblemError

log = logging.getLogger(__name__)
EVENTS = frozenset({"start", "output", "logs", "completed"})
SECRET_PREFIX = "whsec_"
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class WebhookTarget:
    """Where a prediction's `completed` event goes."""

    url: str


def webhook_target(body: Mapping[str, Any]) -> WebhookTarget | None:
    """The create body's webhook, if it asks for the `completed` event; 422 when malformed."""
    url = body.get("webhook")
    events = body.get("webhook_events_filter")
    if events is not None and (
        not isinstance(events, list) or not all(e in EVENTS for e in events)
    ):
        listed = ", ".join(f'"{e}"' for e in sorted(EVENTS))
        message = f"must be a list of the following: {listed}"
        raise ProblemError(problems.invalid_input("webhook_events_filter", message, "enum"))
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ProblemError(problems.invalid_input("webhook", "must be an HTTP(S) URL", "url"))
    if events is not None and "completed" not in events:
        return None
    return WebhookTarget(url)


@dataclass
class WebhookCounts:
    """What happened to webhooks since the last reset."""

    deliveries: int = 0
    """POSTs made (a resend counts again)."""
    accepted: int = 0
    """Deliveries answered 2xx."""
    refused: int = 0
    """Deliveries answered with a status that ends them (e.g. 401)."""
    given_up: int = 0
    """Deliveries still failing after the last resend."""
    dropped: int = 0
    """Webhooks never sent (`[[sim:webhook-drop]]`)."""


class WebhookSender:
    """Signs and sends the webhooks of one server process."""

    def __init__(self, secret: str | None, resend_delays_s: tuple[float, ...]) -> None:
        self.secret = secret or SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
        self._key = base64.b64decode(self.secret.removeprefix(SECRET_PREFIX))
        self._resend_delays_s = resend_delays_s
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = WebhookCounts()

    def when_done(
        self, prediction: Prediction, target: WebhookTarget, faults: WebhookFaults
    ) -> None:
        """Send `prediction`'s `completed` webhook once it ends, as `faults` say."""
        task = asyncio.ensure_future(self._after_done(prediction, target, faults))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def snapshot(self) -> dict[str, int]:
        return asdict(self.counts)

    def reset(self) -> None:
        self._cancel()
        self.counts = WebhookCounts()

    async def close(self) -> None:
        tasks = self._cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _cancel(self) -> list[asyncio.Task[None]]:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    async def _after_done(
        self, prediction: Prediction, target: WebhookTarget, faults: WebhookFaults
    ) -> None:
        await prediction.done.wait()
        if faults.drop:
            self.counts.dropped += 1
            return
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        body = json.dumps(prediction.to_json()).encode()
        key = secrets.token_bytes(32) if faults.bad_signature else self._key
        sends = [self._deliver(target.url, body, key)]
        if faults.duplicate:
            sends.append(self._deliver(target.url, body, key))
        await asyncio.gather(*sends)

    async def _deliver(self, url: str, body: bytes, key: bytes) -> None:
        webhook_id = "msg_" + secrets.token_hex(12)
        for delay_s in (0.0, *self._resend_delays_s):
            await asyncio.sleep(delay_s)
            self.counts.deliveries += 1
            status = await self._post(url, body, webhook_id, key)
            if status is not None and 200 <= status < 300:
                self.counts.accepted += 1
                return
            if status is not None and status < 500 and status not in RETRIED_STATUSES:
                self.counts.refused += 1
                log.info("webhook %s to %s refused with %d", webhook_id, url, status)
                return
        self.counts.given_up += 1
        log.warning("webhook %s to %s failed after every resend", webhook_id, url)

    async def _post(self, url: str, body: bytes, webhook_id: str, key: bytes) -> int | None:
        timestamp = str(int(time.time()))
        content = f"{webhook_id}.{timestamp}.".encode() + body
        signature = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": f"v1,{signature}",
        }
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        with contextlib.suppress(httpx.HTTPError):
            return (await self._http.post(url, content=body, headers=headers)).status_code
        return None
