"""Replicate's webhooks in: check the signature, refuse replays, append the completion to
`lecturegen.provider.predictions.v1` (keyed by prediction id, the verified body as the value,
a header naming the webhook id). Nothing is written for a delivery that fails any check.

The signing secret comes from `api.webhook_secret`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from api.problems import ProblemError
from api.settings import ApiSettings
from api.webhook_secret import SecretUnavailableError, SigningSecrets, provider_secret
from shared import headers as h
from shared import topics
from shared.kafka import TopicSettings, create_topics, make_producer, provider_predictions_topic
from shared.webhooks.signature import (
    TOLERANCE_S,
    Delivery,
    InvalidSignatureError,
    SigningSecret,
    verify,
)

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 4 * 1024 * 1024


class ReplayGuard:
    """Webhook ids accepted (or being written) lately. A delivery older than the signature
    tolerance is refused anyway, so ids are kept for twice that long and then forgotten."""

    def __init__(self, keep_s: float = 2 * TOLERANCE_S) -> None:
        self._keep_s = keep_s
        self._seen: dict[str, float] = {}

    def claim(self, webhook_id: str, now_s: float) -> bool:
        """True the first time `webhook_id` is seen within the window."""
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now_s - at < self._keep_s:
                break
            del self._seen[oldest]
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = now_s
        return True

    def release(self, webhook_id: str) -> None:
        """The delivery was not written: let its resend through."""
        self._seen.pop(webhook_id, None)


@dataclass(frozen=True, slots=True)
class Accepted:
    webhook_id: str
    prediction_id: str


class WebhookInbox:
    """Verifies deliveries and appends them to the provider predictions topic."""

    def __init__(
        self,
        secrets: SigningSecrets,
        producer: AIOKafkaProducer,
        topic: str,
        guard: ReplayGuard | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._producer = producer
        self._topic = topic
        self._guard = guard or ReplayGuard()
        self._clock = clock

    async def receive(self, headers: Mapping[str, str], body: bytes) -> Accepted:
        """Append one delivery; a `ProblemError` (401, 409, 400, 503) says why not."""
        if len(body) > MAX_BODY_BYTES:
            raise ProblemError(413, f"a webhook body may have at most {MAX_BODY_BYTES} bytes")
        delivery = await self._verified(headers, body)
        prediction_id = _prediction_id(body)
        now = self._clock()
        if not self._guard.claim(delivery.webhook_id, now):
            raise ProblemError(
                409,
                f"webhook {delivery.webhook_id} was already received; nothing was written",
                slug="webhook-replayed",
            )
        try:
            await self._producer.send_and_wait(
                self._topic,
                value=body,
                key=prediction_id.encode(),
                headers=[(h.WEBHOOK_ID, delivery.webhook_id.encode())],
            )
        except KafkaError as exc:
            self._guard.release(delivery.webhook_id)
            log.warning("webhook not written: %r", exc, extra={"prediction_id": prediction_id})
            raise ProblemError(
                503, "the completion could not be stored; send it again later", slug="unavailable"
            ) from exc
        log.info(
            "webhook received",
            extra={"webhook_id": delivery.webhook_id, "prediction_id": prediction_id},
        )
        return Accepted(delivery.webhook_id, prediction_id)

    async def _verified(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        try:
            secret = await self._secrets.current()
        except SecretUnavailableError as exc:
            log.warning("%s", exc)
            raise ProblemError(
                503, "the webhook signing secret is unavailable", slug="unavailable"
            ) from exc
        try:
            return verify(secret, headers, body, self._clock())
        except InvalidSignatureError as exc:
            rotated = await self._secrets.rotated()
            if rotated is not None:
                try:
                    return verify(rotated, headers, body, self._clock())
                except InvalidSignatureError:
                    pass
            log.warning("webhook refused: %s", exc)
            raise ProblemError(401, str(exc), slug="webhook-signature") from exc


def _prediction_id(body: bytes) -> str:
    try:
        prediction = json.loads(body)
    except ValueError:
        prediction = None
    prediction_id = prediction.get("id") if isinstance(prediction, dict) else None
    if not isinstance(prediction_id, str) or not prediction_id:
        raise ProblemError(400, "the webhook body is not a prediction with an `id`")
    return prediction_id


async def open_webhook_inbox(settings: ApiSettings, stack: AsyncExitStack) -> WebhookInbox:
    """The inbox with its own producer and HTTP client, closed by `stack`; its topic created."""
    namespace = settings.kafka.topic_namespace
    await create_topics(settings.kafka, [provider_predictions_topic(namespace, TopicSettings())])
    producer = make_producer(settings.kafka, request_timeout_ms=settings.kafka_timeout_ms)
    stack.push_async_callback(producer.stop)
    await producer.start()
    http = httpx.AsyncClient(timeout=10)
    stack.push_async_callback(http.aclose)
    configured = settings.webhooks.secret
    secrets = SigningSecrets(
        SigningSecret.parse(configured.get_secret_value()) if configured else None,
        provider_secret(http, settings.provider),
    )
    return WebhookInbox(secrets, producer, topics.provider_predictions(namespace))
