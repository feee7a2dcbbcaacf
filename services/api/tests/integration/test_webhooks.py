"""`POST /v1/webhooks/replicate`: a signed delivery is appended to the provider predictions
topic, keyed by prediction id; a bad, stale or replayed one is refused and writes nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.settings import ApiSettings
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import headers as h
from shared import topics
from shared.settings import ProviderSettings
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signature import SigningSecret, signed_headers
from shared.worker.testing import TopicTail

pytestmark = pytest.mark.integration

SECRET = SigningSecret.generate()
ROUTE = "/v1/webhooks/replicate"


@pytest.fixture
def api_settings(api_settings: ApiSettings) -> ApiSettings:
    return api_settings.model_copy(
        update={"webhooks": WebhookSettings(LECTUREGEN_WEBHOOK_SECRET=SECRET.text())}
    )


@pytest.fixture
async def completions(app: FastAPI, api_settings: ApiSettings) -> AsyncIterator[TopicTail]:
    topic = topics.provider_predictions(api_settings.kafka.topic_namespace)
    async with TopicTail(api_settings.kafka, topic) as tail:
        yield tail


def _body(prediction_id: str) -> bytes:
    return json.dumps({"id": prediction_id, "status": "succeeded", "output": ["x"]}).encode()


def _signed(
    body: bytes, *, secret: SigningSecret = SECRET, at: float | None = None, webhook_id: str = ""
) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return signed_headers(secret, webhook_id, int(time.time() if at is None else at), body)


def _written(tail: TopicTail, prediction_id: str) -> list[bytes]:
    return [
        r.value for r in tail.records if r.key == prediction_id.encode() and r.value is not None
    ]


async def _post(
    anonymous: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await anonymous.post(ROUTE, content=body, headers=headers)


async def test_a_signed_delivery_is_appended_keyed_by_prediction_id_without_a_bearer_token(
    anonymous: httpx.AsyncClient, completions: TopicTail
) -> None:
    body = _body("p-good")
    headers = _signed(body)

    response = await _post(anonymous, body, headers)

    assert response.status_code == 202
    assert response.json() == {"webhook_id": headers["webhook-id"], "prediction_id": "p-good"}
    await completions.wait_for(lambda: bool(_written(completions, "p-good")), 10)
    (record,) = [r for r in completions.records if r.key == b"p-good"]
    assert record.value == body
    assert record.header(h.WEBHOOK_ID) == headers["webhook-id"]


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: _signed(body, secret=SigningSecret.generate()),
        lambda body: _signed(body, at=time.time() - 330),
        lambda body: _signed(body, at=time.time() + 330),
        lambda body: {k: v for k, v in _signed(body).items() if k != "webhook-signature"},
        lambda body: _signed(body + b" "),
    ],
    ids=["another secret", "stale", "from the future", "unsigned", "body changed"],
)
async def test_a_bad_or_stale_signature_is_401_and_nothing_is_written(
    anonymous: httpx.AsyncClient, completions: TopicTail, forge: object
) -> None:
    prediction_id = f"p-bad-{uuid.uuid4().hex[:6]}"
    body = _body(prediction_id)
    response = await _post(anonymous, body, forge(body))  # type: ignore[operator]

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    # A good delivery after it: once that one is read, the topic's whole content is.
    good = _body("p-after")
    assert (await _post(anonymous, good, _signed(good))).status_code == 202
    await completions.read_to_end(10)
    assert _written(completions, prediction_id) == []


async def test_a_replayed_webhook_id_is_refused_and_written_once(
    anonymous: httpx.AsyncClient, completions: TopicTail
) -> None:
    body = _body("p-replayed")
    headers = _signed(body)
    assert (await _post(anonymous, body, headers)).status_code == 202

    again = await _post(anonymous, body, headers)

    assert again.status_code == 409
    assert "already received" in again.json()["detail"]
    await completions.read_to_end(10)
    assert len(_written(completions, "p-replayed")) == 1


async def test_a_signed_body_that_is_not_a_prediction_is_400(
    anonymous: httpx.AsyncClient, completions: TopicTail
) -> None:
    body = b'{"status": "succeeded"}'
    response = await _post(anonymous, body, _signed(body))
    assert response.status_code == 400


class TestTheSecretFromTheProvider:
    """Without `LECTUREGEN_WEBHOOK_SECRET` the API asks the provider for it."""

    @pytest.fixture
    async def sim_url(self) -> AsyncIterator[str]:
        async with serve_in_background(SimSettings(port=0)) as url:
            yield url

    @pytest.fixture
    def api_settings(self, api_settings: ApiSettings, sim_url: str) -> ApiSettings:
        return api_settings.model_copy(
            update={
                "webhooks": WebhookSettings(),
                "provider": ProviderSettings(base_url=sim_url, api_token="t"),
            }
        )

    async def test_a_delivery_signed_with_the_served_secret_is_accepted(
        self, anonymous: httpx.AsyncClient, sim_url: str
    ) -> None:
        async with httpx.AsyncClient(headers={"Authorization": "Bearer t"}) as http:
            served = (await http.get(f"{sim_url}/v1/webhooks/default/secret")).json()["key"]
        body = _body("p-served")

        accepted = await _post(anonymous, body, _signed(body, secret=SigningSecret.parse(served)))
        refused = await _post(anonymous, body, _signed(body))

        assert (accepted.status_code, refused.status_code) == (202, 401)
