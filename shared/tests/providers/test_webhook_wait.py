"""`WebhookWait`: the webhook ends the wait without a read; a missing one is made up for by a
read every `fallback_poll_s`; the slot is given back once, only for a prediction still running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from replicate.prediction import Prediction

from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.ports import Attempt
from shared.providers.webhook_wait import WebhookWait
from shared.webhooks.completions import CompletionBoard
from shared.webhooks.metrics import register_webhook_metrics

RUNNING = {
    "id": "p1",
    "model": "minimax/video-01",
    "version": "hidden",
    "status": "processing",
    "input": {},
    "urls": {},
}
DONE = {**RUNNING, "status": "succeeded", "output": "https://replicate.delivery/x/out-0.mp4"}


class _Predictions:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.reads = 0

    async def async_get(self, prediction_id: str) -> Prediction:
        self.reads += 1
        return Prediction.parse_obj(self.answers.pop(0))


class _Client:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.predictions = _Predictions(answers)


COMMAND = GenerateAsset(
    command_id="c1",
    lecture_id="l1",
    asset_id="a1",
    kind=MediaKind.VIDEO,
    prompt_version=1,
    prompt="a river at dawn",
    model="minimax/video-01",
    requested_at=datetime(2026, 1, 1, tzinfo=UTC),
    correlation_id="k1",
)


def _attempt(freed: list[int]) -> Attempt:
    return Attempt(COMMAND, 1, on_waiting=lambda: freed.append(1))


async def test_the_webhook_ends_the_wait_without_reading_the_prediction() -> None:
    board, client = CompletionBoard(), _Client([])
    freed: list[int] = []
    wait = WebhookWait("https://api.example/v1/webhooks/replicate", board, 60, 8)
    waiting = asyncio.create_task(
        wait.wait(client, Prediction.parse_obj(RUNNING), _attempt(freed))  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.01)
    board.post(DONE)
    prediction = await waiting
    assert (prediction.status, prediction.output) == ("succeeded", DONE["output"])
    assert (client.predictions.reads, wait.fallback_reads, freed) == (0, 0, [1])


async def test_without_a_webhook_the_prediction_is_read_every_fallback_interval() -> None:
    board, client = CompletionBoard(), _Client([RUNNING, DONE])
    freed: list[int] = []
    wait = WebhookWait("https://api.example/hook", board, 0.05, 8)
    prediction = await wait.wait(
        client,  # type: ignore[arg-type]
        Prediction.parse_obj(RUNNING),
        _attempt(freed),
    )
    assert prediction.status == "succeeded"
    assert (client.predictions.reads, wait.fallback_reads, freed) == (2, 2, [1])


async def test_a_prediction_already_ended_keeps_its_slot_and_is_not_read() -> None:
    board, client = CompletionBoard(), _Client([])
    freed: list[int] = []
    wait = WebhookWait("https://api.example/hook", board, 60, 8)
    prediction = await wait.wait(
        client,  # type: ignore[arg-type]
        Prediction.parse_obj(DONE),
        _attempt(freed),
    )
    assert prediction.status == "succeeded"
    assert freed == []


def test_creates_ask_for_the_completed_event_only() -> None:
    wait = WebhookWait("https://api.example/hook", CompletionBoard(), 60, 8)
    assert wait.create_options() == {
        "webhook": "https://api.example/hook",
        "webhook_events_filter": ["completed"],
    }


async def test_the_worker_metrics_count_webhooks_and_fallback_reads() -> None:
    board, client = CompletionBoard(), _Client([DONE])
    freed: list[int] = []
    wait = WebhookWait("https://api.example/hook", board, 0.05, 8)
    registry = CollectorRegistry()
    register_webhook_metrics(registry, wait, MediaKind.VIDEO)
    board.post(DONE)
    await wait.wait(client, Prediction.parse_obj(RUNNING), _attempt(freed))  # type: ignore[arg-type]
    await wait.wait(client, Prediction.parse_obj(RUNNING), _attempt(freed))  # type: ignore[arg-type]

    def value(name: str) -> float | None:
        return registry.get_sample_value(name, {"medium": "video"})

    assert value("lecturegen_worker_webhook_completions_total") == 1
    assert value("lecturegen_worker_webhook_fallback_reads_total") == 1
    assert value("lecturegen_worker_predictions_awaiting_webhook") == 0
