"""A request that breaks its model's schema (the model registry) is refused with a 422 that
names the field, and nothing is written: no event, no regeneration claim."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from api.settings import ApiSettings
from shared import topics
from shared.envelope import decode
from shared.events import LectureCreated
from shared.kafka import make_consumer

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration


def lecture(title: str, **segment: object) -> dict[str, object]:
    return {"title": title, "segments": [{"duration_s": 6, **segment}]}


async def titles_up_to(settings: ApiSettings, lecture_id: str) -> list[str]:
    """The title of every lecture in this module's event log, read until the lecture
    `lecture_id` (appended last) has been seen and one more fetch came back."""
    topic = topics.events(settings.kafka.topic_namespace)
    consumer = make_consumer(settings.kafka, f"titles-{lecture_id}", [topic])
    await consumer.start()
    created: list[LectureCreated] = []
    try:
        async with asyncio.timeout(30):
            while not any(c.lecture_id == lecture_id for c in created):
                created += await _lectures(consumer)
            created += await _lectures(consumer)
    finally:
        await consumer.stop()
    return [c.title for c in created]


async def _lectures(consumer: AIOKafkaConsumer) -> list[LectureCreated]:
    batches = await consumer.getmany(timeout_ms=500)
    payloads = [decode(r.value, r.headers).payload for rs in batches.values() for r in rs]
    return [p for p in payloads if isinstance(p, LectureCreated)]


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ({"video": {"prompt": "x" * 2_001}}, "segments.0.video.prompt"),
        (
            {
                "image": {
                    "prompt": "a bee",
                    "model": "black-forest-labs/flux-1.1-pro",
                    "params": {"num_outputs": 2},
                }
            },
            "segments.0.image.params.num_outputs",
        ),
        (
            {
                "video": {
                    "prompt": "a hive",
                    "model": "google/veo-3",
                    "params": {"prompt_optimizer": True},
                }
            },
            "segments.0.video.params.prompt_optimizer",
        ),
        (
            {"image": {"prompt": "a bee", "params": {"num_outputs": 9}}},
            "segments.0.image.params.num_outputs",
        ),
    ],
)
async def test_a_lecture_that_breaks_a_models_schema_is_refused_before_any_event(
    client: httpx.AsyncClient, api_settings: ApiSettings, segment: dict[str, object], field: str
) -> None:
    title = f"refused {field}"
    response = await client.post("/v1/lectures", json=lecture(title, **segment))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    # a valid lecture after it: once the log is read up to that one, the refused one would show
    kept = await client.post("/v1/lectures", json=lecture("kept", image={"prompt": "a bee"}))
    assert kept.status_code == 202
    titles = await titles_up_to(api_settings, kept.json()["lecture_id"])
    assert "kept" in titles
    assert title not in titles


async def test_a_voice_is_sent_as_the_narration_models_own_field(
    client: httpx.AsyncClient, api_settings: ApiSettings
) -> None:
    kokoro = "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
    body = lecture("voices", narration={"text": "Hello.", "voice": "af_sky", "model": kokoro})
    accepted = await client.post("/v1/lectures", json=body)
    assert accepted.status_code == 202
    lecture_id = accepted.json()["lecture_id"]
    topic = topics.events(api_settings.kafka.topic_namespace)
    consumer = make_consumer(api_settings.kafka, f"voice-{lecture_id}", [topic])
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                found = [
                    decode(r.value, r.headers).payload
                    for records in batches.values()
                    for r in records
                    if r.key == lecture_id.encode()
                ]
                if found:
                    break
    finally:
        await consumer.stop()
    (created,) = found
    assert isinstance(created, LectureCreated)
    assert created.assets[0].params == {"voice": "af_sky"}


async def test_an_unknown_model_is_not_checked_beyond_the_apis_own_limits(
    client: httpx.AsyncClient,
) -> None:
    body = lecture("free", image={"prompt": "a bee", "model": "acme/new", "params": {"any": [1]}})
    assert (await client.post("/v1/lectures", json=body)).status_code == 202


async def test_a_regeneration_that_breaks_the_new_models_schema_is_refused_and_claims_nothing(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    accepted = (
        await client.post("/v1/lectures", json=lecture("bees", video={"prompt": "a bee"}))
    ).json()
    [video] = accepted["assets"]
    last = await emit(asset_events(accepted["lecture_id"], video).failed())
    await client.get(f"/v1/assets/{video['asset_id']}?wait_for={last}")

    refused = await client.post(
        f"/v1/assets/{video['asset_id']}/regenerate",
        json={"prompt": "y" * 2_500, "model": "minimax/video-01"},
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["prompt"]
    # nothing was claimed or written: the next valid regeneration is version 2, not a 409
    ok = await client.post(f"/v1/assets/{video['asset_id']}/regenerate", json={"prompt": "a hive"})
    assert (ok.status_code, ok.json()["prompt_version"]) == (202, 2)
