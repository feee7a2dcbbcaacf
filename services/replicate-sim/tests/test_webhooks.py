"""Signed `completed` webhooks and the `[[sim:webhook-*]]` directives (DESIGN §8).

Deliveries go to a real HTTP receiver on the loopback interface; their signatures are checked
with the Standard Webhooks scheme against the secret the server serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from replicate_sim.settings import SimSettings
from shared.webhooks.signature import InvalidSignatureError, SigningSecret, verify

FLUX = "black-forest-labs/flux-schnell"


@pytest.fixture
def settings() -> SimSettings:
    return SimSettings(port=0, default_latency_s=0.05, webhook_resend_delays_s=(0.1, 0.1))


@dataclass
class Receiver:
    """An HTTP endpoint that records each delivery and answers `statuses` in turn (then 200)."""

    url: str = ""
    deliveries: list[tuple[dict[str, str], bytes, float]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def wait_for(self, count: int, within_s: float = 5) -> None:
        async with asyncio.timeout(within_s):
            while len(self.deliveries) < count:  # noqa: ASYNC110 - filled by the server
                await asyncio.sleep(0.02)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        got.deliveries.append((dict(request.headers), await request.body(), time.monotonic()))
        return Response(status_code=got.statuses.pop(0) if got.statuses else 200)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    got.url = f"http://127.0.0.1:{port}/hook"
    yield got
    server.should_exit = True
    await task


async def _secret(http: httpx.AsyncClient) -> SigningSecret:
    response = await http.get("/v1/webhooks/default/secret")
    response.raise_for_status()
    key = response.json()["key"]
    assert key.startswith("whsec_")
    return SigningSecret.parse(key)


async def _create(http: httpx.AsyncClient, prompt: str, url: str, **extra: object) -> str:
    body = {"input": {"prompt": prompt}, "webhook": url, **extra}
    response = await http.post(f"/v1/models/{FLUX}/predictions", json=body)
    assert response.status_code == 201, response.text
    prediction_id: str = response.json()["id"]
    return prediction_id


async def test_a_completed_prediction_is_posted_once_signed_with_the_served_secret(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    prediction_id = await _create(
        http, "a lighthouse", receiver.url, webhook_events_filter=["completed"]
    )
    await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    assert len(receiver.deliveries) == 1
    headers, body, _ = receiver.deliveries[0]
    delivery = verify(await _secret(http), headers, body, time.time())
    sent = httpx.Response(200, content=delivery.body).json()
    assert (sent["id"], sent["status"]) == (prediction_id, "succeeded")
    assert sent["output"]
    assert (await http.get("/sim/webhooks")).json()["accepted"] == 1


async def _until_ended(http: httpx.AsyncClient, prediction_id: str) -> None:
    status = "starting"
    while status not in {"succeeded", "failed"}:
        await asyncio.sleep(0.02)
        status = (await http.get(f"/v1/predictions/{prediction_id}")).json()["status"]


async def test_drop_sends_nothing(http: httpx.AsyncClient, receiver: Receiver) -> None:
    prediction_id = await _create(http, "a cat [[sim:webhook-drop]]", receiver.url)
    async with asyncio.timeout(5):
        await _until_ended(http, prediction_id)
    await asyncio.sleep(0.3)
    assert receiver.deliveries == []
    assert (await http.get("/sim/webhooks")).json()["dropped"] == 1


async def test_duplicate_sends_two_deliveries_with_different_ids_and_one_body(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    await _create(http, "a dog [[sim:webhook-duplicate]]", receiver.url)
    await receiver.wait_for(2)
    secret = await _secret(http)
    (first, body_1, _), (second, body_2, _) = receiver.deliveries
    assert first["webhook-id"] != second["webhook-id"]
    assert body_1 == body_2
    for headers, body, _ in receiver.deliveries:
        verify(secret, headers, body, time.time())


async def test_delay_holds_the_delivery_back(http: httpx.AsyncClient, receiver: Receiver) -> None:
    began = time.monotonic()
    await _create(http, "a slow owl [[sim:webhook-delay=1.0]]", receiver.url)
    await receiver.wait_for(1)
    assert receiver.deliveries[0][2] - began >= 1.0


async def test_bad_signature_does_not_verify_with_the_served_secret(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [401]
    await _create(http, "a fox [[sim:webhook-bad-signature]]", receiver.url)
    await receiver.wait_for(1)
    headers, body, _ = receiver.deliveries[0]
    with pytest.raises(InvalidSignatureError):
        verify(await _secret(http), headers, body, time.time())
    await asyncio.sleep(0.4)
    assert len(receiver.deliveries) == 1, "a 401 is not sent again"
    assert (await http.get("/sim/webhooks")).json()["refused"] == 1


async def test_a_failed_delivery_is_sent_again_with_the_same_id(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [503, 500]
    await _create(http, "a wave", receiver.url)
    await receiver.wait_for(3)
    ids = {headers["webhook-id"] for headers, _, _ in receiver.deliveries}
    assert len(ids) == 1
    assert (await http.get("/sim/webhooks")).json() == {
        "deliveries": 3,
        "accepted": 1,
        "refused": 0,
        "given_up": 0,
        "dropped": 0,
    }


async def test_a_filter_without_completed_sends_nothing(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    await _create(http, "a tree", receiver.url, webhook_events_filter=["start"])
    await asyncio.sleep(0.5)
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    ("extra", "field_name"),
    [
        ({"webhook": "ftp://x/y"}, "webhook"),
        ({"webhook": "http://x/y", "webhook_events_filter": ["done"]}, "webhook_events_filter"),
    ],
)
async def test_a_malformed_webhook_is_refused_with_422(
    http: httpx.AsyncClient, extra: dict[str, object], field_name: str
) -> None:
    body = {"input": {"prompt": "a bird"}, **extra}
    response = await http.post(f"/v1/models/{FLUX}/predictions", json=body)
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == field_name


async def test_the_secret_needs_a_token(sim_url: str) -> None:
    async with httpx.AsyncClient(base_url=sim_url) as anonymous:
        assert (await anonymous.get("/v1/webhooks/default/secret")).status_code == 401
