"""Bodies and events over the limits get 413 naming the limit, never a 503: a retry could
never succeed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.settings import ApiSettings
from shared import topics
from shared.kafka import TopicSpec, create_topics

pytestmark = pytest.mark.integration

SMALL_TOPIC_LIMIT = 200_000


def lecture(prompt: str, segment_count: int = 1) -> dict[str, object]:
    segment = {"duration_s": 1, "image": {"prompt": prompt}}
    return {"title": "Large", "segments": [segment] * segment_count}


@pytest.fixture
def small_body_limit(api_settings: ApiSettings) -> ApiSettings:
    api_settings.max_body_bytes = 10_000
    return api_settings


async def test_a_body_over_the_limit_gets_413_naming_the_limit(
    small_body_limit: ApiSettings, client: httpx.AsyncClient
) -> None:
    answer = await client.post("/v1/lectures", json=lecture("x" * 20_000))

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "at most 10000 bytes" in answer.json()["detail"]
    assert "LECTUREGEN_API_MAX_BODY_BYTES" in answer.json()["detail"]


async def test_a_body_sent_without_a_length_is_counted_as_it_arrives(
    small_body_limit: ApiSettings, client: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "Large", "segments": [{"duration_s": 1, "image": {"prompt": "'
        for _ in range(20):
            yield b"x" * 1000
        yield b'"}}]}'

    answer = await client.post(
        "/v1/lectures", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 413, answer.text
    assert "at most 10000 bytes" in answer.json()["detail"]


@pytest.fixture
async def small_events_topic(api_settings: ApiSettings, unique_name: str) -> ApiSettings:
    """An events topic made before the limit was raised, with a lower `max.message.bytes`."""
    api_settings.kafka = api_settings.kafka.model_copy(
        update={"topic_namespace": f"t{unique_name}."}
    )
    name = topics.events(api_settings.kafka.topic_namespace)
    config = {"max.message.bytes": str(SMALL_TOPIC_LIMIT)}
    await create_topics(api_settings.kafka, [TopicSpec(name, 1, 1, config)])
    return api_settings


async def test_a_lecture_larger_than_the_events_topic_takes_gets_413_not_503(
    small_events_topic: ApiSettings, client: httpx.AsyncClient
) -> None:
    fits = await client.post("/v1/lectures", json=lecture("y" * 4_000, 40))
    too_large = await client.post("/v1/lectures", json=lecture("y" * 4_000, 60))

    assert fits.status_code == 202, fits.text
    assert too_large.status_code == 413, too_large.text
    problem = too_large.json()
    assert problem["type"].endswith(":event-too-large")
    assert "max.message.bytes" in problem["detail"]
    assert str(SMALL_TOPIC_LIMIT - SMALL_TOPIC_LIMIT // 256 - 1024) in problem["detail"]
