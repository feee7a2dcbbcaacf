"""A worker's account budget as Prometheus figures."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from shared.media import MediaKind
from shared.providers.budget import AccountBudget, BudgetLimits, Call
from shared.providers.budget_metrics import register_budget_metrics


async def test_calls_sent_429s_limits_and_polls_are_exposed_per_kind_of_call() -> None:
    budget = AccountBudget(BudgetLimits(creates_per_min=60, reads_per_min=300))
    registry = CollectorRegistry()
    register_budget_metrics(registry, budget, MediaKind.IMAGE)
    await budget.acquire(Call.CREATE)
    await budget.acquire(Call.READ)
    await budget.acquire(Call.READ)
    budget.throttled(Call.READ, 1)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"medium": "image", **labels})

    assert value("lecturegen_worker_provider_requests_total", call="create") == 1
    assert value("lecturegen_worker_provider_requests_total", call="read") == 2
    assert value("lecturegen_worker_provider_throttled_total", call="read") == 1
    assert value("lecturegen_worker_provider_throttled_total", call="create") == 0
    assert value("lecturegen_worker_provider_budget_per_minute", call="read") == 300
    with budget.polling_one():
        assert value("lecturegen_worker_predictions_polled") == 1
