"""`GET /v1/providers` and `waiting_for`: the circuits from the health topic, and the assets
held until their provider is back, in their view and their timeline clip."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from api.settings import ApiSettings
from shared import topics
from shared.envelope import encode, envelop
from shared.events import HealthWindow, ProviderHealthChanged
from shared.kafka import make_producer

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

LECTURE = {
    "title": "Tides",
    "segments": [
        {"segment_id": "s1", "duration_s": 10, "image": {"prompt": "the moon"}},
        {"segment_id": "s2", "duration_s": 10, "image": {"prompt": "the sea"}},
    ],
}


async def _publish_open(settings: ApiSettings, model: str) -> None:
    now = datetime.now(UTC)
    change = ProviderHealthChanged(
        provider="replicate",
        model=model,
        state="open",
        since=now,
        reason="9 of 12 attempts failed in the last 30 s",
        window=HealthWindow(attempts=12, failures=9, rate_limited=0),
        unavailable_since=now,
    )
    value, headers = encode(envelop(change, "tests/api"))
    producer = make_producer(settings.kafka)
    await producer.start()
    try:
        topic = topics.provider_health(settings.kafka.topic_namespace)
        await producer.send_and_wait(
            topic, value, key=f"replicate/{model}".encode(), headers=headers
        )
    finally:
        await producer.stop()


async def test_an_open_circuit_and_the_asset_held_by_it_are_visible(
    client: httpx.AsyncClient,
    projector: None,
    emit: Emit,
    asset_events: type[AssetEvents],
    api_settings: ApiSettings,
) -> None:
    accepted = (await client.post("/v1/lectures", json=LECTURE)).json()
    lecture_id = accepted["lecture_id"]
    held, plain = accepted["assets"]
    lecture = await client.get(f"/v1/lectures/{lecture_id}?wait_for={accepted['event_id']}")
    model = lecture.json()["assets"][0]["model"]
    waiting = (
        asset_events(lecture_id, held)
        .retrying(1)
        .model_copy(update={"retried_count": 0, "model": model, "waiting_for": "provider"})
    )
    await emit(asset_events(lecture_id, held).started(1))
    await emit(waiting)
    last = await emit(asset_events(lecture_id, plain).retrying(1))
    await _publish_open(api_settings, model)

    held_view = (await client.get(f"/v1/assets/{held['asset_id']}?wait_for={last}")).json()
    plain_view = (await client.get(f"/v1/assets/{plain['asset_id']}")).json()
    assert (held_view["status"], held_view["waiting_for"]) == ("retrying", "provider")
    assert (plain_view["status"], plain_view["waiting_for"]) == ("retrying", None)
    timeline = (await client.get(f"/v1/lectures/{lecture_id}/timeline")).json()
    clips = {c["asset_id"]: c for c in timeline["tracks"][0]["clips"]}
    assert clips[held["asset_id"]]["waiting_for"] == "provider"
    assert clips[plain["asset_id"]]["waiting_for"] is None

    for _ in range(50):  # the API follows the health topic
        providers = (await client.get("/v1/providers")).json()["providers"]
        if providers:
            break
        await asyncio.sleep(0.2)
    [circuit] = providers
    assert (circuit["provider"], circuit["model"], circuit["state"]) == ("replicate", model, "open")
    assert circuit["error_rate"] == 0.75
    assert circuit["assets_waiting"] == 1
    assert circuit["unavailable_since"] is not None
