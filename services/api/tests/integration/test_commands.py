"""Commands append exactly one event each; bad input is refused with the field named."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.settings import ApiSettings
from shared import topics
from shared.envelope import Envelope, decode
from shared.events import LectureCreated
from shared.kafka import make_consumer

pytestmark = pytest.mark.integration

LECTURE = {
    "title": "Tides",
    "segments": [
        {"segment_id": "intro", "duration_s": 8, "image": {"prompt": "the moon over the sea"}},
        {"duration_s": 12, "narration": {"text": "The moon pulls the sea.", "voice": "Calm"}},
    ],
    "music": {"prompt": "waves"},
}


async def events_of(settings: ApiSettings, lecture_id: str) -> list[tuple[bytes, Envelope]]:
    """Every event of the lecture in this module's event log, read from the start."""
    consumer = make_consumer(
        settings.kafka, f"reader-{lecture_id}", [topics.events(settings.kafka.topic_namespace)]
    )
    await consumer.start()
    found: list[tuple[bytes, Envelope]] = []
    try:
        async with asyncio.timeout(30):
            while not found:
                batches = await consumer.getmany(timeout_ms=500)
                found += [
                    (r.key, decode(r.value, r.headers))
                    for records in batches.values()
                    for r in records
                    if r.key == lecture_id.encode()
                ]
            # anything else of this lecture would have been written in the same call
            batches = await consumer.getmany(timeout_ms=500)
            found += [
                (r.key, decode(r.value, r.headers))
                for records in batches.values()
                for r in records
                if r.key == lecture_id.encode()
            ]
    finally:
        await consumer.stop()
    return found


async def test_creating_a_lecture_appends_one_lecture_created_event(
    client: httpx.AsyncClient, api_settings: ApiSettings
) -> None:
    response = await client.post("/v1/lectures", json=LECTURE)

    assert response.status_code == 202
    body = response.json()
    assert [(a["kind"], a["segment_id"]) for a in body["assets"]] == [
        ("image", "intro"),
        ("narration", "s2"),
        ("music", None),
    ]
    [(_key, envelope)] = await events_of(api_settings, body["lecture_id"])
    assert envelope.id == body["event_id"]
    assert envelope.type == LectureCreated.TYPE
    event = envelope.payload
    assert isinstance(event, LectureCreated)
    assert event.lecture_id == body["lecture_id"]
    assert [a.asset_id for a in event.assets] == [a["asset_id"] for a in body["assets"]]
    assert [(s.segment_id, s.start_s) for s in event.segments] == [("intro", 0), ("s2", 8)]
    assert event.assets[1].params == {"voice_id": "Calm"}
    assert event.assets[2].duration_s == 20


async def test_an_invalid_lecture_gets_a_422_problem_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    bad = {**LECTURE, "segments": [{"duration_s": 601}]}
    response = await client.post("/v1/lectures", json=bad)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/v1/lectures"
    assert [e["field"] for e in problem["errors"]] == ["segments.0.duration_s"]


async def test_repeated_segment_ids_get_a_422_naming_the_repeat(client: httpx.AsyncClient) -> None:
    bad = {**LECTURE, "segments": [{"segment_id": "x", "duration_s": 1}] * 2}
    response = await client.post("/v1/lectures", json=bad)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "segments.1.segment_id"


async def test_a_body_that_is_not_json_gets_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/lectures", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
