"""Webhook mode's figures on a worker's `/metrics`, read from its `WebhookWait` when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.media import MediaKind
from shared.providers.webhook_wait import WebhookWait


class WebhookWaitCollector(Collector):
    """Waits ended by a webhook, fallback reads (a rising count: webhooks are being lost),
    and predictions waited on right now."""

    def __init__(self, wait: WebhookWait, kind: MediaKind) -> None:
        self._wait = wait
        self._medium = kind.value

    def collect(self) -> Iterator[Metric]:
        ended = CounterMetricFamily(
            "lecturegen_worker_webhook_completions",
            "Predictions whose end a webhook reported.",
            labels=["medium"],
        )
        ended.add_metric([self._medium], self._wait.by_webhook)
        reads = CounterMetricFamily(
            "lecturegen_worker_webhook_fallback_reads",
            "Predictions read because no webhook came within the fallback interval.",
            labels=["medium"],
        )
        reads.add_metric([self._medium], self._wait.fallback_reads)
        waiting = GaugeMetricFamily(
            "lecturegen_worker_predictions_awaiting_webhook",
            "Predictions running without a slot, waiting for their webhook.",
            labels=["medium"],
        )
        waiting.add_metric([self._medium], self._wait.waiting)
        yield from (ended, reads, waiting)


def register_webhook_metrics(
    registry: CollectorRegistry, wait: WebhookWait, kind: MediaKind
) -> None:
    registry.register(WebhookWaitCollector(wait, kind))
