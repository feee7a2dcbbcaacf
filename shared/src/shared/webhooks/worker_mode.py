"""A worker process's webhook mode: on when `LECTUREGEN_WEBHOOK_URL` is set (else it polls)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from shared import topics
from shared.kafka import TopicSettings, create_topics, make_reader, provider_predictions_topic
from shared.providers.webhook_wait import WebhookWait
from shared.settings import KafkaSettings
from shared.webhooks.completions import CompletionBoard
from shared.webhooks.feed import CompletionFeed
from shared.webhooks.settings import WebhookSettings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_webhook_wait(
    webhooks: WebhookSettings, kafka: KafkaSettings, topic_settings: TopicSettings
) -> AsyncIterator[WebhookWait | None]:
    """A `WebhookWait` fed by a running `CompletionFeed` (stopped on exit), or None when no
    webhook URL is configured."""
    if not webhooks.url:
        yield None
        return
    topic = topics.provider_predictions(kafka.topic_namespace)
    await create_topics(kafka, [provider_predictions_topic(kafka.topic_namespace, topic_settings)])
    board = CompletionBoard()
    feed = CompletionFeed(make_reader(kafka), topic, board)
    try:
        await feed.start()
        log.info(
            "waiting for predictions by webhook",
            extra={
                "webhook_url": webhooks.url,
                "fallback_poll_s": webhooks.fallback_poll_s,
                "max_outstanding": webhooks.max_outstanding,
            },
        )
        yield WebhookWait(webhooks.url, board, webhooks.fallback_poll_s, webhooks.max_outstanding)
    finally:
        await feed.stop()
