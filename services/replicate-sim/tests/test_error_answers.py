"""Errors answer like Replicate, as problem+json, and bad input never causes a 500."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from replicate_sim.app import create_app
from replicate_sim.settings import SimSettings

FLUX_PATH = "/v1/models/black-forest-labs/flux-schnell/predictions"
UNAUTHENTICATED = {
    "title": "Unauthenticated",
    "detail": "You did not pass a valid authentication token",
    "status": 401,
}
NOT_FOUND = {"detail": "The requested resource could not be found.", "status": 404}


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Token", "Basic dTpw"])
async def test_a_request_without_a_usable_token_is_unauthenticated(
    sim_url: str, tls: ssl.SSLContext, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with httpx.AsyncClient(
        base_url=sim_url, headers=headers, verify=tls, trust_env=False
    ) as raw:
        response = await raw.post(FLUX_PATH, json={"input": {"prompt": "x"}})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == UNAUTHENTICATED


async def test_the_token_scheme_is_accepted_as_well_as_bearer(http: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Token t"}
    response = await http.post(FLUX_PATH, json={"input": {"prompt": "x"}}, headers=headers)
    assert response.status_code == 201


class TestConfiguredToken:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(port=0, token="s3cret")

    async def test_only_the_configured_token_is_accepted(
        self, make_client: Callable[..., replicate.Client]
    ) -> None:
        flux, payload = "black-forest-labs/flux-schnell", {"prompt": "x"}
        with pytest.raises(ReplicateError) as raised:
            await make_client("other").models.predictions.async_create(model=flux, input=payload)
        assert (raised.value.status, raised.value.title) == (401, "Unauthenticated")
        right = make_client("s3cret")
        prediction = await right.models.predictions.async_create(model=flux, input=payload)
        assert prediction.status == "starting"

    async def test_a_non_ascii_token_is_refused_not_crashed_on(
        self, http: httpx.AsyncClient
    ) -> None:
        headers = {b"Authorization": "Bearer s3crét".encode("latin-1")}
        response = await http.post(FLUX_PATH, json={"input": {"prompt": "x"}}, headers=headers)
        assert response.status_code == 401


async def test_an_unknown_model_is_not_found(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as raised:
        await client.async_run("nobody/nothing", input={"prompt": "x"})
    assert raised.value.status == 404
    assert raised.value.detail == NOT_FOUND["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/models/nobody/nothing/predictions"),
        ("POST", "/v1/models/meta/musicgen/predictions"),
        ("POST", "/v1/deployments/acme/nothing/predictions"),
        ("GET", "/v1/predictions/doesnotexist"),
        ("POST", "/v1/predictions/doesnotexist/cancel"),
        ("GET", "/v1/models/nobody/nothing"),
        ("GET", "/v1/models/meta/musicgen/versions/0000"),
        ("GET", "/v1/no/such/route"),
    ],
)
async def test_unknown_resources_answer_replicates_404(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await http.request(method, path, json={"input": {"prompt": "x"}})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "version",
    ["0" * 64, "meta/musicgen:" + "0" * 64, "nobody/nothing:abc", "meta/musicgen", "x"],
)
async def test_an_unknown_version_is_invalid_or_not_permitted(
    http: httpx.AsyncClient, version: str
) -> None:
    response = await http.post("/v1/predictions", json={"version": version, "input": {"p": 1}})
    assert response.status_code == 422
    assert response.json()["title"] == "Invalid version or not permitted"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "body"),
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'"text"', "body"),
        (b"{}", "input"),
        (b'{"input": null}', "input"),
        (b'{"input": "a cat"}', "input"),
        (b'{"input": {}}', "input.prompt"),
        (b'{"input": {"prompt": 7}}', "input.prompt"),
        (b'{"input": {"prompt": "   "}}', "input.prompt"),
        (b'{"input": {"prompt": "x", "aspect_ratio": "7:3"}}', "input.aspect_ratio"),
        (b'{"input": {"prompt": "x", "output_format": "gif"}}', "input.output_format"),
        (b'{"input": {"prompt": "x", "num_outputs": 9}}', "input.num_outputs"),
        (b'{"input": {"prompt": "x", "num_outputs": true}}', "input.num_outputs"),
        (b'{"input": {"prompt": "x", "num_outputs": NaN}}', "body"),
        (b'{"input": {"prompt": "x", "num_outputs": 1e999}}', "body"),
        (b'{"input": {"prompt": "x"}, "n": ' + b"9" * 5000 + b"}", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b"\xff\xfe", "body"),
    ],
)
async def test_a_malformed_create_is_an_input_validation_failure(
    http: httpx.AsyncClient, content: bytes, field: str
) -> None:
    response = await http.post(FLUX_PATH, content=content)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Input validation failed"
    assert body["invalid_fields"][0]["field"] == field


async def test_validation_failures_read_like_replicates(http: httpx.AsyncClient) -> None:
    body = {"input": {"prompt": "x", "output_format": "gif"}}
    response = await http.post(FLUX_PATH, json=body)
    assert response.json()["detail"] == (
        '- input.output_format: output_format must be one of the following: "webp", "jpg", "png"\n'
    )


async def test_narration_needs_its_text(http: httpx.AsyncClient) -> None:
    path = "/v1/models/minimax/speech-02-turbo/predictions"
    response = await http.post(path, json={"input": {"prompt": "wrong field"}})
    assert response.json()["invalid_fields"][0]["field"] == "input.text"
    too_long = await http.post(path, json={"input": {"text": "a" * 5001}})
    assert too_long.status_code == 422


async def test_a_missing_version_is_an_input_validation_failure(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/predictions", json={"input": {"prompt": "x"}})
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == "version"


@pytest.mark.parametrize(
    "payload",
    [
        {"prompt": "x", "duration": "long"},
        {"prompt": "x", "duration": -1},
        {"prompt": "x", "duration": 10_000},
        {"prompt": "x", "duration": None},
        {"prompt": "x", "seed": "abc", "extra": {"deep": [1, {"x": None}]}},
        {"prompt": "\u0000\ud7ff\U0001f600 [[sim:latency=-1]] [[sim:transient x-1]]"},
        {"prompt": "x" * 9000},
    ],
)
async def test_odd_inputs_never_cause_a_server_error(
    http: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    for model in ("google/veo-3", "stability-ai/stable-audio-2.5"):
        response = await http.post(
            f"/v1/models/{model}/predictions", json={"input": payload}, headers={"Prefer": "wait"}
        )
        assert response.status_code < 500, response.text
        if response.status_code == 201:
            assert response.json()["status"] == "succeeded"


async def test_a_wrong_method_answers_405_as_a_problem(http: httpx.AsyncClient) -> None:
    response = await http.delete(FLUX_PATH)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_500_problem_not_a_crash() -> None:
    app = create_app(SimSettings())

    def broken(prediction_id: str) -> None:
        raise RuntimeError("bug")

    app.state.simulator.get = broken
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": "Bearer t"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", headers=headers
    ) as raw:
        response = await raw.get("/v1/predictions/abc")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
