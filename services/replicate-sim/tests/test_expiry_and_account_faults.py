"""Outputs that expire, answers for an account without credit or permission, and reads of a
prediction that fail (DESIGN §8), as the real `replicate` client and plain HTTP meet them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from replicate_sim.settings import SimSettings

FLUX = "black-forest-labs/flux-schnell"


async def _finished(http: httpx.AsyncClient, prompt: str) -> dict[str, object]:
    response = await http.post(
        f"/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": prompt}},
        headers={"Prefer": "wait=10"},
    )
    body: dict[str, object] = response.json()
    assert body["status"] == "succeeded"
    return body


async def test_expire_output_removes_the_output_of_the_first_predictions_only(
    http: httpx.AsyncClient,
) -> None:
    prompt = "fading [[sim:expire-output x1]]"
    first = await _finished(http, prompt)
    assert (first["output"], first["data_removed"]) == (None, True)
    again = (await http.get(f"/v1/predictions/{first['id']}")).json()
    assert (again["output"], again["data_removed"]) == (None, True)
    second = await _finished(http, prompt)
    assert second["data_removed"] is False
    assert isinstance(second["output"], list)
    assert (await http.get(second["output"][0])).status_code == 200


async def test_the_client_reads_an_expired_prediction_as_succeeded_without_output(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "gone [[sim:expire-output]]"}, wait=10
    )
    # the client's model has no `data_removed`: only the raw answer tells expiry from a filter
    assert (prediction.status, prediction.output) == ("succeeded", None)


class TestOutputTtl:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(port=0, default_latency_s=0.01, output_ttl_s=0.5)

    async def test_outputs_expire_after_the_ttl_and_their_files_are_gone(
        self, http: httpx.AsyncClient
    ) -> None:
        body = await _finished(http, "brief")
        output = body["output"]
        assert isinstance(output, list)
        (url,) = output
        assert url.endswith("/out-0.png")
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(0.6)
        later = (await http.get(f"/v1/predictions/{body['id']}")).json()
        assert (later["status"], later["output"], later["data_removed"]) == (
            "succeeded",
            None,
            True,
        )
        assert (await http.get(url)).status_code == 404


async def test_insufficient_credit_answers_402_on_every_create(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "pricey [[sim:insufficient-credit]]"}
    for _ in range(2):
        with pytest.raises(ReplicateError) as raised:
            await client.models.predictions.async_create(model=FLUX, input=payload)
        assert (raised.value.status, raised.value.title) == (402, "Insufficient credit")
    response = await http.post(f"/v1/models/{FLUX}/predictions", json={"input": payload})
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("You have insufficient credit to run this model.")


async def test_forbidden_answers_403(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as raised:
        await client.models.predictions.async_create(
            model=FLUX, input={"prompt": "not mine [[sim:forbidden]]"}
        )
    assert (raised.value.status, raised.value.title) == (403, "Forbidden")


async def test_read_error_fails_the_first_reads_with_a_5xx_then_reads_work(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "shaky [[sim:read-error x2 status=500]]"}
    )
    for _ in range(2):
        with pytest.raises(ReplicateError) as raised:
            await prediction.async_reload()
        assert raised.value.status == 500
    await prediction.async_wait()
    assert prediction.status == "succeeded"


async def test_read_drop_cuts_the_connection_in_the_middle_of_the_answer(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "cut [[sim:read-drop x1]]"}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        await prediction.async_reload()
    await prediction.async_wait()
    assert prediction.status == "succeeded"


async def test_read_faults_count_per_prediction(client: replicate.Client) -> None:
    payload = {"prompt": "each [[sim:read-error x1]]"}
    for _ in range(2):
        prediction = await client.models.predictions.async_create(model=FLUX, input=payload)
        with pytest.raises(ReplicateError) as raised:
            await prediction.async_reload()
        assert raised.value.status == 502
