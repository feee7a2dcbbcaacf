"""Choosing how a worker process waits for predictions: webhooks when
`LECTUREGEN_WEBHOOK_URL` is set, polling otherwise."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from shared import topics
from shared.kafka import TopicSettings, create_topics, make_reader, provider_predictions_topic
from shared.providers.waiting import PollingWait, PredictionWait, WebhookWait
from shared.settings import KafkaSettings, ProviderSettings
from shared.webhooks.completions import CompletionBoard
from shared.webhooks.feed import CompletionFeed
from shared.webhooks.settings import WebhookSettings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_prediction_wait(
    webhooks: WebhookSettings,
    provider: ProviderSettings,
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
) -> AsyncIterator[PredictionWait]:
    """Polling, or webhooks with a running `CompletionFeed` (stopped on exit)."""
    if not webhooks.url:
        yield PollingWait(provider.poll_interval_s)
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
