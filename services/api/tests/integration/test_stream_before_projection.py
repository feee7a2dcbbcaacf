"""A lecture's event stream opened right after its 202, before the projector has shown it."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.settings import ApiSettings

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

BOUND_S = 6.0
LAG_S = 1.0


@pytest.fixture
def api_settings(api_settings: ApiSettings) -> ApiSettings:
    return api_settings.model_copy(update={"wait_for_timeout_s": BOUND_S})


@pytest.fixture
async def http(live_api: str, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=live_api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def lecture(n: int) -> dict[str, Any]:
    return {"title": f"Race {n}", "segments": [{"duration_s": 3, "image": {"prompt": f"p{n}"}}]}


async def create_then_subscribe(
    http: httpx.AsyncClient, n: int, *, wait_for: bool, accepted: list[str] | None = None
) -> int:
    answer = (await http.post("/v1/lectures", json=lecture(n))).json()
    if accepted is not None:
        accepted.append(answer["lecture_id"])
    params = {"wait_for": answer["event_id"]} if wait_for else {}
    path = f"/v1/lectures/{answer['lecture_id']}/events"
    async with http.stream("GET", path, params=params) as response:
        return response.status_code


async def test_fifty_streams_opened_right_after_their_202_all_open_while_the_projector_lags(
    http: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    accepted: list[str] = []
    projector.send_signal(signal.SIGSTOP)  # every lecture is accepted; none is projected
    try:
        streams = [
            asyncio.create_task(
                create_then_subscribe(http, n, wait_for=n % 2 == 0, accepted=accepted)
            )
            for n in range(50)
        ]
        async with asyncio.timeout(30):
            while len(accepted) < 50:  # noqa: ASYNC110 - the tasks append; nothing to signal
                await asyncio.sleep(0.05)
        await asyncio.sleep(LAG_S)
        assert not any(stream.done() for stream in streams)
    finally:
        projector.send_signal(signal.SIGCONT)
    statuses = await asyncio.gather(*streams)

    assert statuses.count(404) == 0
    assert statuses == [200] * 50


async def test_a_stream_of_a_lecture_that_never_existed_is_404_after_the_bound(
    http: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    started = time.monotonic()
    async with http.stream("GET", "/v1/lectures/lec_never_was/events") as response:
        status = response.status_code
        body = (await response.aread()).decode()

    assert status == 404
    assert "lec_never_was" in body
    assert BOUND_S - 0.5 <= time.monotonic() - started < BOUND_S + 5


async def test_a_new_stream_resumes_after_last_event_id_given_in_the_query(
    http: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    accepted = (await http.post("/v1/lectures", json=lecture(99))).json()
    lecture_id = accepted["lecture_id"]
    events = asset_events(lecture_id, accepted["assets"][0])
    for attempt in (1, 2):
        await emit(events.started(attempt))
    last = await emit(events.retrying(2))
    assert (await http.get(f"/v1/lectures/{lecture_id}?wait_for={last}")).is_success

    path = f"/v1/lectures/{lecture_id}/events"
    async with http.stream("GET", path, params={"last_event_id": "2"}) as response:
        ids = []
        async with asyncio.timeout(10):
            async for line in response.aiter_lines():
                if line.startswith("id:"):
                    ids.append(line.removeprefix("id:").strip())
                    break

    assert ids == ["3"]
