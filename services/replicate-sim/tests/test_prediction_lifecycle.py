"""The prediction API as the real `replicate` client and plain HTTP see it."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import replicate

from replicate_sim.models import ModelTable
from replicate_sim.settings import OutputMode, SimSettings

FLUX = "black-forest-labs/flux-schnell"
MUSICGEN = ModelTable().by_ref("meta", "musicgen")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


async def test_a_create_without_wait_answers_starting_at_once_with_a_location(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x"}})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "starting"
    assert response.headers["location"] == body["urls"]["get"]
    assert body["urls"]["get"].endswith(f"/v1/predictions/{body['id']}")
    assert body["urls"]["cancel"] == body["urls"]["get"] + "/cancel"
    assert "preference-applied" not in response.headers


async def test_a_prediction_moves_from_starting_through_processing_to_succeeded(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "slow [[sim:latency=0.6]]"}
    )
    seen = [prediction.status]
    while prediction.status not in ("succeeded", "failed", "canceled"):
        await asyncio.sleep(0.03)
        await prediction.async_reload()
        seen.append(prediction.status)
    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == [
        "starting",
        "processing",
        "succeeded",
    ]
    # an official model's prediction reports a `dp-` version, as the real API's recorded answers
    # do (replicate-python cassette tests/cassettes/test_predictions_create_by_model[True].yaml)
    assert re.fullmatch(r"dp-[0-9a-f]{32}", prediction.version)
    assert prediction.model == FLUX
    assert all(ISO_TIME.match(t or "") for t in (prediction.created_at, prediction.completed_at))
    assert prediction.metrics is not None
    assert prediction.metrics["predict_time"] > 0
    assert prediction.metrics["total_time"] >= 0.6
    assert prediction.progress is not None
    assert prediction.progress.percentage == 1.0


async def test_prefer_wait_holds_the_create_until_the_prediction_is_done(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        f"/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": "quick"}},
        headers={"Prefer": "wait=5"},
    )
    assert response.headers["preference-applied"] == "wait=5"
    assert response.json()["status"] == "succeeded"


async def test_a_wait_that_runs_out_reports_the_predictions_real_status(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    # a blocking create recorded against the real API answered `processing` when its wait ran
    # out (replicate-python cassette test_models_predictions_create_blocking[True-10].yaml)
    response = await http.post(
        f"/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": "slow [[sim:latency=2]]"}},
        headers={"Prefer": "wait=1"},
    )
    assert response.json()["status"] == "processing"  # a quarter of 2 s is spent starting
    early = await http.post(
        f"/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": "slower [[sim:latency=8]]"}},
        headers={"Prefer": "wait=1"},
    )
    assert early.json()["status"] == "starting"
    # `run` (1.0.7) polls only after a `starting` answer: one still `processing` comes back
    # without its output, as it would from the real API
    assert await client.async_run(FLUX, input={"prompt": "slow [[sim:latency=2]]"}, wait=1) is None


async def test_a_community_model_runs_by_version_id_alone(client: replicate.Client) -> None:
    assert MUSICGEN is not None
    prediction = await client.predictions.async_create(
        version=MUSICGEN.version, input={"prompt": "drums", "duration": 1}
    )
    await prediction.async_wait()
    assert prediction.status == "succeeded"
    assert prediction.version == MUSICGEN.version
    assert prediction.model == "meta/musicgen"


async def test_a_version_body_may_name_the_model_too(http: httpx.AsyncClient) -> None:
    assert MUSICGEN is not None
    body = {"version": f"meta/musicgen:{MUSICGEN.version}", "input": {"prompt": "harp"}}
    response = await http.post("/v1/predictions", json=body)
    assert response.status_code == 201
    official = {"version": FLUX, "input": {"prompt": "harp"}}
    assert (await http.post("/v1/predictions", json=official)).status_code == 201


async def test_a_deployment_serves_the_model_of_the_same_name(client: replicate.Client) -> None:
    prediction = await client.deployments.predictions.async_create(
        "acme/flux-schnell", input={"prompt": "deployed"}
    )
    await prediction.async_wait()
    assert prediction.status == "succeeded"
    assert prediction.version.startswith("dp-")
    assert len(prediction.version) == 35


async def test_canceling_a_running_prediction_ends_it_as_canceled(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "long [[sim:latency=30]]"}
    )
    await prediction.async_cancel()
    assert prediction.status == "canceled"
    await prediction.async_reload()
    assert prediction.status == "canceled"
    assert prediction.output is None


async def test_canceling_a_finished_prediction_leaves_it_as_it_was(
    client: replicate.Client,
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "done"}, wait=True
    )
    await prediction.async_cancel()
    assert prediction.status == "succeeded"


async def test_the_model_and_its_version_are_described(client: replicate.Client) -> None:
    model = await client.models.async_get("meta/musicgen")
    assert model.latest_version is not None
    version = await model.versions.async_get(model.latest_version.id)
    assert version.id == model.latest_version.id
    assert "prompt" in version.openapi_schema["components"]["schemas"]["Input"]["properties"]


class TestAutoOutputMode:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(port=0, default_latency_s=0.01, output_mode=OutputMode.AUTO)

    async def test_a_small_output_is_an_inline_data_uri(self, client: replicate.Client) -> None:
        prediction = await client.models.predictions.async_create(
            model="google/veo-3", input={"prompt": "tiny"}, wait=True
        )
        assert isinstance(prediction.output, str)
        assert prediction.output.startswith("data:video/mp4;base64,")


class TestUrlOutputMode:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(port=0, default_latency_s=0.01, output_mode=OutputMode.URL)

    async def test_outputs_are_urls_on_the_server_that_serve_the_file(
        self, client: replicate.Client, http: httpx.AsyncClient
    ) -> None:
        prediction = await client.models.predictions.async_create(
            model="google/veo-3", input={"prompt": "served"}, wait=True
        )
        url = prediction.output
        assert isinstance(url, str)
        assert url.startswith(str(http.base_url).rstrip("/") + "/delivery/xezq/")
        assert url.endswith("/out-0.mp4")
        response = await http.get(url)
        assert response.headers["content-type"] == "video/mp4"
        assert response.content[4:8] == b"ftyp"

    async def test_an_unknown_file_is_not_found(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/files/nothing.png")
        assert response.status_code == 404


class TestPublicBaseUrl:
    @pytest.fixture
    def settings(self) -> SimSettings:
        return SimSettings(
            port=0, public_base_url="http://sim.test:9000/", output_mode=OutputMode.URL
        )

    async def test_urls_handed_out_use_the_configured_base(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            f"/v1/models/{FLUX}/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Prefer": "wait"},
        )
        body = response.json()
        assert response.headers["location"].startswith("http://sim.test:9000/v1/predictions/")
        assert body["output"][0].startswith("http://sim.test:9000/delivery/xezq/")
