"""Each `[[sim:...]]` directive, as the real `replicate` client meets it (DESIGN §8)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pydantic.v1
import pytest
import replicate
from replicate.exceptions import ModelError, ReplicateError

FLUX = "black-forest-labs/flux-schnell"


async def outputs(client: replicate.Client, payload: dict[str, Any]) -> list[Any]:
    """FLUX's outputs for `payload`: a list, as the model answers."""
    output = await client.async_run(FLUX, input=payload)
    assert isinstance(output, list), output
    return output


SPEECH = "minimax/speech-02-turbo"
E005 = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)


async def stats_for(http: httpx.AsyncClient, text: str) -> int:
    response = await http.get("/sim/stats", params={"contains": text})
    return int(response.json()["total_creates"])


async def test_sensitive_fails_the_prediction_with_e005(client: replicate.Client) -> None:
    with pytest.raises(ModelError) as raised:
        await client.async_run(FLUX, input={"prompt": "gore [[sim:sensitive]]"})
    assert raised.value.prediction.status == "failed"
    assert raised.value.prediction.error == E005


async def test_sensitive_works_in_narration_text_too(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=SPEECH, input={"text": "Say this [[sim:sensitive]]"}
    )
    await prediction.async_wait()
    assert (prediction.status, prediction.error) == ("failed", E005)


async def test_invalid_input_answers_422_naming_the_prompt(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "bad [[sim:invalid-input]]"}
    with pytest.raises(ReplicateError) as raised:
        await client.models.predictions.async_create(model=FLUX, input=payload)
    assert (raised.value.status, raised.value.title) == (422, "Input validation failed")
    response = await http.post(f"/v1/models/{FLUX}/predictions", json={"input": payload})
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalid_fields"][0]["field"] == "input.prompt"


async def test_transient_failures_rotate_then_the_same_input_succeeds(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "flaky [[sim:transient x4]]"}
    errors = []
    for _ in range(3):
        with pytest.raises(ModelError) as raised:
            await client.async_run(FLUX, input=payload)
        errors.append(raised.value.prediction.error)
    assert errors == [
        "Director: unexpected error handling prediction (E6716)",
        "Prediction interrupted; please retry (code: PA)",
        "Service is temporarily unavailable. Please try again later. (E004)",
    ]
    with pytest.raises(ReplicateError) as unavailable:
        await client.async_run(FLUX, input=payload)
    assert unavailable.value.status == 503
    assert len(await outputs(client, payload)) == 1
    assert await stats_for(http, "flaky") == 5


async def test_transient_counts_are_per_exact_input(client: replicate.Client) -> None:
    with pytest.raises(ModelError):
        await client.async_run(FLUX, input={"prompt": "a [[sim:transient x1]]"})
    with pytest.raises(ModelError):
        await client.async_run(FLUX, input={"prompt": "a [[sim:transient x1]]", "seed": 1})
    assert len(await outputs(client, {"prompt": "a [[sim:transient x1]]"})) == 1


async def test_rate_limit_throttles_creates_with_the_hint_in_text_body_and_header(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "busy [[sim:rate-limit x2 after=7]]"}
    with pytest.raises(ReplicateError) as raised:
        await client.models.predictions.async_create(model=FLUX, input=payload)
    assert raised.value.status == 429
    assert raised.value.detail == "Request was throttled. Your rate limit resets in ~7s."
    response = await http.post(f"/v1/models/{FLUX}/predictions", json={"input": payload})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    # the body's shape as a real throttle answers it (github.com/nodetool-ai/nodetool/issues/5196)
    assert response.json() == {
        "detail": "Request was throttled. Your rate limit resets in ~7s.",
        "status": 429,
        "retry_after": 7,
    }
    assert len(await outputs(client, payload)) == 1


async def test_model_error_fails_with_e1001_every_time(client: replicate.Client) -> None:
    for _ in range(2):
        with pytest.raises(ModelError) as raised:
            await client.async_run(FLUX, input={"prompt": "huge [[sim:model-error]]"})
        assert raised.value.prediction.error == (
            "Director: unexpected error handling prediction (E1001)"
        )
        assert "CUDA out of memory" in (raised.value.prediction.logs or "")


async def test_latency_sets_how_long_the_prediction_takes(client: replicate.Client) -> None:
    started = time.monotonic()
    await client.async_run(FLUX, input={"prompt": "slow [[sim:latency=0.6]]"})
    assert time.monotonic() - started >= 0.6


async def test_hang_keeps_the_create_unanswered_until_the_client_gives_up(
    make_client: Callable[..., replicate.Client], http: httpx.AsyncClient
) -> None:
    # replicate 1.0.7 sends creates without `wait` with no timeout at all; with `wait=1` the
    # create's read timeout is 1.5 s.
    impatient = make_client(timeout=httpx.Timeout(0.5))
    payload = {"prompt": "stuck [[sim:hang x1]]"}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await impatient.models.predictions.async_create(model=FLUX, input=payload, wait=1)
    assert time.monotonic() - started >= 1.5
    prediction = await impatient.models.predictions.async_create(model=FLUX, input=payload)
    assert prediction.status == "starting"
    assert await stats_for(http, "stuck") == 2


async def test_a_hanging_create_ends_when_its_client_disconnects(
    http: httpx.AsyncClient,
) -> None:
    payload = {"input": {"prompt": "gone [[sim:hang x1]]"}}
    with pytest.raises(httpx.ReadTimeout):
        await http.post(f"/v1/models/{FLUX}/predictions", json=payload, timeout=0.3)
    response = await http.post(f"/v1/models/{FLUX}/predictions", json=payload)
    assert response.status_code == 201


async def test_aborted_is_a_status_the_client_cannot_parse(client: replicate.Client) -> None:
    with pytest.raises(pydantic.v1.ValidationError):
        await client.async_run(FLUX, input={"prompt": "late [[sim:aborted]]"})


async def test_empty_output_succeeds_with_an_empty_list(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "nsfw-ish [[sim:empty-output]]"}, wait=True
    )
    assert (prediction.status, prediction.output) == ("succeeded", [])


async def test_foreign_output_points_at_a_host_that_is_not_allowed(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model="google/veo-3", input={"prompt": "elsewhere [[sim:foreign-output]]"}, wait=True
    )
    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str)
    assert prediction.output.startswith("https://evil.example.com/files/")
