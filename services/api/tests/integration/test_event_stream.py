"""The live event stream: SSE over a real server, resumed with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

LECTURE = {
    "title": "Rivers",
    "segments": [{"segment_id": "s1", "duration_s": 4, "video": {"prompt": "a river"}}],
}


async def sse_messages(response: httpx.Response) -> AsyncGenerator[dict[str, str], None]:
    """Parse a `text/event-stream` body into messages (`comment` for comment-only ones)."""
    message: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            message["comment"] = line[1:].strip()
        else:
            field, _, value = line.partition(":")
            message[field] = value.removeprefix(" ")


async def take(stream: AsyncIterator[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The next `count` event messages (heartbeats skipped), within a bounded time."""
    found: list[dict[str, str]] = []
    async with asyncio.timeout(30):
        async for message in stream:
            if "event" in message:
                found.append(message)
                if len(found) == count:
                    break
    return found


@pytest.fixture
async def http(live_api: str, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=live_api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
async def lecture(http: httpx.AsyncClient, projector: asyncio.subprocess.Process) -> dict[str, Any]:
    accepted: dict[str, Any] = (await http.post("/v1/lectures", json=LECTURE)).json()
    lecture_id, event_id = accepted["lecture_id"], accepted["event_id"]
    response = await http.get(f"/v1/lectures/{lecture_id}?wait_for={event_id}")
    assert response.status_code == 200
    return accepted


async def test_a_client_that_reconnects_with_last_event_id_gets_every_later_event_once(
    http: httpx.AsyncClient, lecture: dict[str, Any], emit: Emit, asset_events: type[AssetEvents]
) -> None:
    lecture_id = lecture["lecture_id"]
    events = asset_events(lecture_id, lecture["assets"][0])
    emitted = [await emit(events.started(1)), await emit(events.retrying(1))]
    emitted += [await emit(events.started(2)), await emit(events.retrying(2))]
    path = f"/v1/lectures/{lecture_id}/events"

    async with http.stream("GET", path) as response, aclosing(sse_messages(response)) as stream:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = await take(stream, 2)
    # Disconnected: these happen while nobody listens.
    emitted += [await emit(events.started(3)), await emit(events.retrying(3))]

    resume = {"Last-Event-ID": first[-1]["id"]}
    async with (
        http.stream("GET", path, headers=resume) as response,
        aclosing(sse_messages(response)) as stream,
    ):
        caught_up = await take(stream, 4)
        # Live now: these arrive through NOTIFY.
        emitted += [await emit(events.started(4)), await emit(events.failed())]
        live = await take(stream, 2)
        quiet = await anext(stream)  # nothing more but heartbeats: no duplicates

    received = first + caught_up + live
    assert [int(m["id"]) for m in received] == list(range(1, 9))
    assert [json.loads(m["data"])["event_id"] for m in received] == emitted
    assert [m["event"] for m in received[:3]] == [
        "asset.attempt-started",
        "asset.retrying",
        "asset.attempt-started",
    ]
    assert received[-1]["event"] == "asset.failed"
    assert json.loads(received[-1]["data"])["error"]["code"] == "SENSITIVE_CONTENT"
    assert quiet == {"comment": "heartbeat"}


async def test_the_stream_accepts_the_token_in_the_query(
    live_api: str, lecture: dict[str, Any], token: str
) -> None:
    url = f"{live_api}/v1/lectures/{lecture['lecture_id']}/events?access_token={token}"
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", url) as response,
        aclosing(sse_messages(response)) as stream,
    ):
        assert response.status_code == 200
        first = await anext(stream)
    assert first == {"comment": "heartbeat"}


async def test_a_bad_last_event_id_is_422_before_the_stream_starts(
    http: httpx.AsyncClient, lecture: dict[str, Any]
) -> None:
    response = await http.get(
        f"/v1/lectures/{lecture['lecture_id']}/events", headers={"Last-Event-ID": "abc"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "header.Last-Event-ID"


async def test_an_unknown_lecture_stream_is_404_problem(
    http: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    response = await http.get("/v1/lectures/nope/events")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_stream_ends_and_unsubscribes_when_its_client_leaves(
    http: httpx.AsyncClient, lecture: dict[str, Any]
) -> None:
    path = f"/v1/lectures/{lecture['lecture_id']}/events"
    async with http.stream("GET", path) as response, aclosing(sse_messages(response)) as stream:
        assert await anext(stream) == {"comment": "heartbeat"}
        assert await open_streams(http) == 1

    async with asyncio.timeout(10):
        while await open_streams(http) != 0:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.05)


async def open_streams(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    [line] = [x for x in metrics.splitlines() if x.startswith("lecturegen_api_sse_clients ")]
    return float(line.split()[1])


async def test_an_asset_held_for_its_provider_says_so_in_its_sse_event(
    http: httpx.AsyncClient, lecture: dict[str, Any], emit: Emit, asset_events: type[AssetEvents]
) -> None:
    lecture_id = lecture["lecture_id"]
    events = asset_events(lecture_id, lecture["assets"][0])
    held = events.retrying(1).model_copy(
        update={"retried_count": 0, "model": "acme/model", "waiting_for": "provider"}
    )
    await emit(events.started(1))
    await emit(held)

    path = f"/v1/lectures/{lecture_id}/events"
    async with http.stream("GET", path) as response, aclosing(sse_messages(response)) as stream:
        _, waiting = await take(stream, 2)

    assert waiting["event"] == "asset.retrying"
    data = json.loads(waiting["data"])
    assert (data["waiting_for"], data["asset_status"]) == ("provider", "retrying")
