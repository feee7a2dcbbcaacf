"""The server's answers, as the official `replicate` client and plain HTTP get them, have the
shape of the real API's answers recorded in public sources: every member a recorded answer
has, with the same JSON type, and the same headers that matter. Each recorded shape is
written out by hand from the source named above it (members and types only: ids, times and
texts differ by nature)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from replicate_sim.models import ModelTable
from replicate_sim.settings import SimSettings

FLUX = "black-forest-labs/flux-schnell"
MUSICGEN = ModelTable().by_ref("meta", "musicgen")
STR, NUM, NULL, BOOL = "string", "number", "null", "boolean"
Shape = Any


def shape(value: object) -> Shape:
    """The JSON type of every member, recursively (a list by the shape of its first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUM
    return NULL if value is None else STR


def assert_has_shape(answer: object, recorded: Shape, where: str = "") -> None:
    """`answer` has every member of `recorded`, each of the recorded type (extra members are
    allowed: later API versions add members the older recordings lack)."""
    if isinstance(recorded, dict):
        assert isinstance(answer, dict), where
        for key, kind in recorded.items():
            assert key in answer, f"{where}.{key} is missing"
            assert_has_shape(answer[key], kind, f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(answer, list), where
        if recorded:
            assert answer, f"{where} is empty"
            assert_has_shape(answer[0], recorded[0], f"{where}[0]")
    else:
        assert shape(answer) == recorded, f"{where}: {shape(answer)} is not {recorded}"


# github.com/replicate/replicate-python,
# tests/cassettes/test_predictions_create_by_model[True].yaml:
# POST /v1/models/meta/meta-llama-3-8b-instruct/predictions, answered 201
RECORDED_OFFICIAL_CREATE = {
    "id": STR,
    "model": STR,
    "version": STR,
    "input": {"prompt": STR},
    "logs": STR,
    "error": NULL,
    "status": STR,
    "created_at": STR,
    "urls": {"cancel": STR, "get": STR},
}
RECORDED_VERSION = re.compile(r"^dp-[0-9a-f]{32}$")  # "dp-a557b7387b4940df25b23f779dc534c4"

# the same repository, tests/cassettes/predictions-get.yaml: GET of a succeeded image
# prediction, whose output is ["https://replicate.delivery/pbxt/<token>/out-0.png"]
RECORDED_SUCCEEDED = {
    "completed_at": STR,
    "created_at": STR,
    "error": NULL,
    "id": STR,
    "input": {"prompt": STR},
    "logs": STR,
    "metrics": {"predict_time": NUM},
    "output": [STR],
    "started_at": STR,
    "status": STR,
    "urls": {"get": STR, "cancel": STR},
    "version": STR,
}
RECORDED_OUTPUT_NAME = re.compile(r"/[A-Za-z0-9]{40,}/out-0\.png$")

# tests/cassettes/test_models_predictions_create_blocking[True-10].yaml: `Prefer: wait=10` ran
# out while the prediction was `processing`; 201 with `Preference-Applied: wait=10`
RECORDED_BLOCKING_TIMEOUT = {
    "id": STR,
    "model": STR,
    "version": STR,
    "input": {"prompt": STR},
    "logs": STR,
    "output": NULL,  # a language model streams text here; an image model has none yet
    "data_removed": BOOL,
    "error": NULL,
    "status": STR,
    "created_at": STR,
    "urls": {"cancel": STR, "get": STR},
}

# tests/cassettes/models-versions-get.yaml: GET /v1/models/stability-ai/sdxl/versions/<id>
RECORDED_VERSION_OBJECT = {
    "id": STR,
    "created_at": STR,
    "cog_version": STR,
    "openapi_schema": {
        "openapi": STR,
        "info": {"title": STR, "version": STR},
        "components": {"schemas": {"Input": {"type": STR, "properties": {"prompt": {}}}}},
    },
}

# tests/cassettes/run__invalid-token.yaml: 401, application/problem+json
RECORDED_UNAUTHENTICATED = {
    "title": "Unauthenticated",
    "detail": "You did not pass a valid authentication token",
    "status": 401,
}

# github.com/nodetool-ai/nodetool/issues/5196 quotes a real 429 body whole:
# {"detail":"Request was throttled. ... Your rate limit resets in ~5s.",
#  "status":429,"retry_after":5}
RECORDED_THROTTLED = {"detail": STR, "status": NUM, "retry_after": NUM}

# every recorded answer carries these (e.g. `ratelimit-remaining: 599`, `ratelimit-reset: 1`)
RATELIMIT_HEADERS = ("ratelimit-remaining", "ratelimit-reset")


async def test_an_official_create_answers_the_recorded_shape_with_a_dp_version(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    response = await http.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "a"}})
    assert response.status_code == 201
    body = response.json()
    assert_has_shape(body, RECORDED_OFFICIAL_CREATE)
    assert body["status"] == "starting"
    assert RECORDED_VERSION.match(body["version"])
    assert all(response.headers[name].isdigit() for name in RATELIMIT_HEADERS)
    # and the official client reads it
    prediction = await client.models.predictions.async_create(model=FLUX, input={"prompt": "b"})
    assert RECORDED_VERSION.match(prediction.version)


async def test_a_succeeded_prediction_answers_the_recorded_shape_with_a_delivery_url(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    prediction = await client.models.predictions.async_create(model=FLUX, input={"prompt": "c"})
    await prediction.async_wait()
    response = await http.get(f"/v1/predictions/{prediction.id}")
    body = response.json()
    assert_has_shape(body, RECORDED_SUCCEEDED)
    assert body["status"] == "succeeded"
    assert RECORDED_OUTPUT_NAME.search(body["output"][0])
    assert all(name in response.headers for name in RATELIMIT_HEADERS)
    assert prediction.output == body["output"]  # the client keeps plain http: URLs as strings


async def test_a_blocking_create_whose_wait_runs_out_answers_the_recorded_shape(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        f"/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": "slow [[sim:latency=4]]"}},
        headers={"Prefer": "wait=2"},
    )
    assert (response.status_code, response.headers["preference-applied"]) == (201, "wait=2")
    body = response.json()
    assert_has_shape(body, RECORDED_BLOCKING_TIMEOUT)
    assert (body["status"], body["data_removed"]) == ("processing", False)


async def test_a_version_answers_the_recorded_shape(client: replicate.Client) -> None:
    assert MUSICGEN is not None
    model = await client.models.async_get("meta/musicgen")
    version = await model.versions.async_get(MUSICGEN.version)
    assert_has_shape(version.dict(), RECORDED_VERSION_OBJECT)


async def test_a_throttled_create_answers_the_recorded_body(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "[[sim:rate-limit after=5]]"}}
    )
    assert response.status_code == 429
    body = response.json()
    assert_has_shape(body, RECORDED_THROTTLED)
    assert (body["retry_after"], response.headers["retry-after"]) == (5, "5")
    assert body["detail"].endswith("Your rate limit resets in ~5s.")
    assert response.headers["ratelimit-remaining"] == "0"


class TestWithAToken:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(port=0, token="the-token")

    async def test_a_wrong_token_answers_the_recorded_problem(
        self, make_client: Any, http: httpx.AsyncClient
    ) -> None:
        with pytest.raises(ReplicateError) as raised:
            await make_client("wrong").models.predictions.async_create(
                model=FLUX, input={"prompt": "x"}
            )
        assert (raised.value.status, raised.value.title) == (401, "Unauthenticated")
        response = await http.post(
            "/v1/predictions",
            json={"input": {}, "version": "x"},
            headers={"Authorization": "Bearer no"},
        )
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == RECORDED_UNAUTHENTICATED
