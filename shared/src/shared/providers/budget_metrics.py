"""A worker's account budget on its `/metrics`, read from its `AccountBudget` when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.media import MediaKind
from shared.providers.budget import AccountBudget, Call


class AccountBudgetCollector(Collector):
    """Provider calls sent and answered 429, per kind of call; the budget's limits; and the
    predictions being polled."""

    def __init__(self, budget: AccountBudget, kind: MediaKind) -> None:
        self._budget = budget
        self._medium = kind.value

    def collect(self) -> Iterator[Metric]:
        budget, medium = self._budget, self._medium
        sent = CounterMetricFamily(
            "lecturegen_worker_provider_requests",
            "Provider API calls sent, after waiting for the account budget.",
            labels=["medium", "call"],
        )
        throttled = CounterMetricFamily(
            "lecturegen_worker_provider_throttled",
            "Provider API calls answered 429 (each holds and slows the budget).",
            labels=["medium", "call"],
        )
        limit = GaugeMetricFamily(
            "lecturegen_worker_provider_budget_per_minute",
            "This process's configured share of the account's rate limits.",
            labels=["medium", "call"],
        )
        limits = {
            Call.CREATE: budget.limits.creates_per_min,
            Call.READ: budget.limits.reads_per_min,
        }
        for call in Call:
            sent.add_metric([medium, call.value], budget.sent[call])
            throttled.add_metric([medium, call.value], budget.throttled_count[call])
            limit.add_metric([medium, call.value], limits[call])
        polling = GaugeMetricFamily(
            "lecturegen_worker_predictions_polled",
            "Predictions this process is polling right now.",
            labels=["medium"],
        )
        polling.add_metric([medium], budget.polling)
        yield from (sent, throttled, limit, polling)


def register_budget_metrics(
    registry: CollectorRegistry, budget: AccountBudget, kind: MediaKind
) -> None:
    registry.register(AccountBudgetCollector(budget, kind))
