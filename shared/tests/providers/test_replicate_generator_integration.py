"""`ReplicateGenerator` with the real `replicate` client against the local Replicate-compatible
server (run in-process on a free port), for every medium and every fault directive."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from replicate.client import Client

from audio_worker.medium import NARRATION
from image_worker.medium import IMAGE
from music_worker.medium import MUSIC
from replicate_sim.server import serve_in_background
from replicate_sim.settings import OutputMode, SimSettings
from shared.blobstore import FilesystemBlobStore
from shared.blobstore.probe import mp3_duration, mp4_duration
from shared.errors import ErrorCode
from shared.events import GenerateAsset
from shared.model_registry import REGISTRY
from shared.ports import Attempt
from shared.providers import (
    MediumSpec,
    ReplicateGenerator,
    ReplicateOptions,
    close_replicate_client,
    replicate_client,
)
from shared.providers.client import last_retry_after
from shared.providers.reads import READ_PATIENCE_S
from shared.providers.webhook_wait import WebhookWait
from shared.results import GenerationFailed, GenerationResult, GenerationSucceeded
from shared.settings import ProviderSettings
from shared.webhooks.completions import CompletionBoard
from video_worker.medium import VIDEO

SHORT_DEADLINE_S = 1.0
Generate = Callable[..., Any]


@pytest.fixture(params=[OutputMode.AUTO])
async def sim_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    settings = SimSettings(port=0, default_latency_s=0.05, hang_cap_s=15, output_mode=request.param)
    async with serve_in_background(settings) as url:
        yield url


@pytest.fixture
async def provider(sim_url: str) -> AsyncIterator[Client]:
    client = replicate_client(ProviderSettings(api_token="test-token", base_url=sim_url))
    yield client
    await close_replicate_client(client)


@pytest.fixture
async def sim_http(sim_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim_url, headers={"Authorization": "Bearer test-token"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def downloads() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "media")


@pytest.fixture
def make_generator(
    provider: Client, downloads: httpx.AsyncClient, store: FilesystemBlobStore, sim_url: str
) -> Callable[..., ReplicateGenerator]:
    def make(spec: MediumSpec, deadline_s: float = 10.0) -> ReplicateGenerator:
        settings = ProviderSettings(
            api_token="test-token", base_url=sim_url, deadline_s=deadline_s, poll_interval_s=0.02
        )
        options = ReplicateOptions.from_settings(settings)
        return ReplicateGenerator(provider, spec, store, downloads, options)

    return make


def command(spec: MediumSpec, prompt: str, **fields: Any) -> GenerateAsset:
    return GenerateAsset(
        command_id="c1",
        lecture_id="l1",
        asset_id="a1",
        kind=spec.kind,
        prompt_version=1,
        prompt=prompt,
        model=fields.pop("model", ""),
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
        correlation_id="k1",
        **fields,
    )


async def creates(sim_http: httpx.AsyncClient, marker: str) -> int:
    response = await sim_http.get("/sim/stats", params={"contains": marker})
    response.raise_for_status()
    return int(response.json()["total_creates"])


def succeeded(result: GenerationResult) -> GenerationSucceeded:
    assert isinstance(result, GenerationSucceeded), getattr(result, "error", result)
    return result


def failed(result: GenerationResult) -> GenerationFailed:
    assert isinstance(result, GenerationFailed), result
    return result


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
        return frames / rate


# --- success, for every medium ------------------------------------------------------------


@pytest.mark.parametrize("sim_url", [OutputMode.DATA, OutputMode.URL], indirect=True)
async def test_an_image_is_stored_as_a_png_that_opens(
    make_generator: Generate, store: FilesystemBlobStore, sim_http: httpx.AsyncClient
) -> None:
    result = succeeded(
        await make_generator(IMAGE).generate(Attempt(command(IMAGE, "a lighthouse at dusk"), 1))
    )
    assert result.media.content_type == "image/png"
    with Image.open(io.BytesIO(await store.read(result.media.blob_key))) as image:
        image.load()
        assert image.format == "PNG"
        assert image.width / image.height == pytest.approx(16 / 9, rel=0.02)
    assert result.debug.model == "black-forest-labs/flux-schnell"
    assert result.debug.provider == "replicate"
    assert result.debug.prompt == "a lighthouse at dusk"
    assert result.debug.prediction_id
    assert await creates(sim_http, "lighthouse") == 1


@pytest.mark.parametrize("sim_url", [OutputMode.DATA, OutputMode.URL], indirect=True)
async def test_music_is_a_wav_of_the_asked_length(
    make_generator: Generate, store: FilesystemBlobStore
) -> None:
    asset = command(MUSIC, "calm piano", duration_s=3.0)
    result = succeeded(await make_generator(MUSIC).generate(Attempt(asset, 1)))
    data = await store.read(result.media.blob_key)
    assert result.media.content_type == "audio/wav"
    assert wav_seconds(data) == pytest.approx(3.0, abs=0.01)
    assert result.media.duration_s == pytest.approx(3.0, abs=0.01)


async def test_narration_is_an_mp3_whose_playing_time_the_probe_reads(
    make_generator: Generate, store: FilesystemBlobStore
) -> None:
    # minimax/speech-02-turbo answers MP3 unless asked otherwise (reference notes)
    text = "Welcome to the first lecture on thermodynamics."
    result = succeeded(
        await make_generator(NARRATION).generate(Attempt(command(NARRATION, text), 1))
    )
    data = await store.read(result.media.blob_key)
    assert result.media.content_type == "audio/mpeg"
    assert result.media.duration_s == mp3_duration(data)
    assert result.media.duration_s == pytest.approx(len(text) / 15, abs=0.1)


@pytest.mark.parametrize("sim_url", [OutputMode.URL], indirect=True)
async def test_video_is_an_mp4_with_its_playing_time(
    make_generator: Generate, store: FilesystemBlobStore
) -> None:
    result = succeeded(
        await make_generator(VIDEO).generate(Attempt(command(VIDEO, "waves on a shore"), 1))
    )
    data = await store.read(result.media.blob_key)
    assert result.media.content_type == "video/mp4"
    assert result.media.duration_s == mp4_duration(data)
    assert result.media.duration_s is not None
    assert result.media.duration_s > 0


async def test_a_community_model_runs_by_version_id(
    make_generator: Generate, store: FilesystemBlobStore
) -> None:
    version = "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
    asset = command(MUSIC, "a march", model=f"meta/musicgen:{version}", duration_s=2.0)
    result = succeeded(await make_generator(MUSIC).generate(Attempt(asset, 1)))
    assert result.media.duration_s == pytest.approx(2.0, abs=0.01)
    assert result.debug.model == f"meta/musicgen:{version}"


# --- fault directives ---------------------------------------------------------------------


async def test_sensitive_content_is_classified_and_sent_once(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    asset = command(IMAGE, "a scene [[sim:sensitive]]")
    result = failed(await make_generator(IMAGE).generate(Attempt(asset, 1)))
    error = result.error
    assert (error.code, error.provider_code) == (ErrorCode.SENSITIVE_CONTENT, "E005")
    assert (error.retryable, error.user_action_required) == (False, True)
    assert "flagged as sensitive" in error.message
    assert result.resume_prediction_id is None
    assert error.context["prediction_id"] == result.debug.prediction_id
    assert await creates(sim_http, "sim:sensitive") == 1


async def test_invalid_input_is_refused_at_create(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    result = failed(
        await make_generator(NARRATION).generate(
            Attempt(command(NARRATION, "Hello [[sim:invalid-input]]"), 1)
        )
    )
    assert (result.error.code, result.error.provider_code) == (ErrorCode.INVALID_INPUT, "422")
    assert result.error.user_action_required
    assert result.debug.prediction_id is None
    assert await creates(sim_http, "sim:invalid-input") == 1


async def test_a_transient_failure_is_retryable_and_the_next_attempt_succeeds(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    generator = make_generator(IMAGE)
    asset = command(IMAGE, "a bridge [[sim:transient x1]]")
    first = failed(await generator.generate(Attempt(asset, 1)))
    assert (first.error.code, first.error.provider_code) == (
        ErrorCode.TRANSIENT_PROVIDER_ERROR,
        "E6716",
    )
    assert first.error.retryable
    assert first.resume_prediction_id is None  # it ended: nothing to collect
    succeeded(await generator.generate(Attempt(asset, 2)))
    assert await creates(sim_http, "sim:transient") == 2


async def test_a_rate_limit_carries_the_providers_hint(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    asset = command(VIDEO, "a storm [[sim:rate-limit x1 after=7]]")
    result = failed(await make_generator(VIDEO).generate(Attempt(asset, 1)))
    assert (result.error.code, result.error.provider_code) == (ErrorCode.RATE_LIMITED, "429")
    assert result.error.retry_after_s == 7
    assert result.error.retryable
    assert last_retry_after() == "7"  # the Retry-After header was seen, not only the text
    # the body's numeric retry_after and the ratelimit-* headers are kept for the logs
    assert result.error.context["retry_after_body"] == 7
    assert (
        result.error.context["ratelimit_remaining"],
        result.error.context["ratelimit_reset_s"],
    ) == (0, 7)
    assert await creates(sim_http, "sim:rate-limit") == 1


async def test_a_read_that_fails_leaves_the_prediction_to_the_next_attempt(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    for marker in ("[[sim:read-error x1]]", "[[sim:read-drop x1]]"):
        asset = command(IMAGE, f"a kite {marker} [[sim:latency=0.3]]")
        result = failed(await make_generator(IMAGE).generate(Attempt(asset, 1)))
        assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
        assert result.resume_prediction_id is not None  # it still runs: collect it, don't pay twice
        resumed = Attempt(asset, 2, resume_prediction_id=result.resume_prediction_id)
        succeeded(await make_generator(IMAGE).generate(resumed))
    assert await creates(sim_http, "a kite") == 2


async def test_insufficient_credit_and_forbidden_need_an_operator_and_are_not_retried(
    make_generator: Generate,
) -> None:
    for marker, status in (("[[sim:insufficient-credit]]", "402"), ("[[sim:forbidden]]", "403")):
        result = failed(
            await make_generator(IMAGE).generate(Attempt(command(IMAGE, f"x {marker}"), 1))
        )
        assert (result.error.code, result.error.provider_code) == (
            ErrorCode.PROVIDER_CONFIGURATION,
            status,
        )
        assert not result.error.retryable


async def test_a_model_error_is_a_provider_failure_and_not_retried(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    result = failed(
        await make_generator(MUSIC).generate(
            Attempt(command(MUSIC, "drums [[sim:model-error]]"), 1)
        )
    )
    assert (result.error.code, result.error.provider_code) == (ErrorCode.PROVIDER_FAILURE, "E1001")
    assert not result.error.retryable
    assert await creates(sim_http, "sim:model-error") == 1


async def test_a_hanging_create_is_cut_by_the_deadline_and_is_transient(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    result = failed(
        await make_generator(IMAGE, deadline_s=SHORT_DEADLINE_S).generate(
            Attempt(command(IMAGE, "a tower [[sim:hang x1]]"), 1)
        )
    )
    assert time.monotonic() - started < SHORT_DEADLINE_S + 2
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert "within 1s" in result.error.message
    assert result.resume_prediction_id is None
    assert await creates(sim_http, "sim:hang") == 1


async def test_a_prediction_slower_than_the_deadline_is_canceled_and_transient(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    result = failed(
        await make_generator(IMAGE, deadline_s=SHORT_DEADLINE_S).generate(
            Attempt(command(IMAGE, "a castle [[sim:latency=30]]"), 1)
        )
    )
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert "canceled" in result.error.message
    assert result.resume_prediction_id is None  # the cancel was confirmed
    prediction = (await sim_http.get(f"/v1/predictions/{result.debug.prediction_id}")).json()
    assert prediction["status"] == "canceled"


async def test_an_output_on_a_foreign_host_is_refused(
    make_generator: Generate, store: FilesystemBlobStore
) -> None:
    result = failed(
        await make_generator(IMAGE).generate(
            Attempt(command(IMAGE, "a map [[sim:foreign-output]]"), 1)
        )
    )
    assert result.error.code is ErrorCode.PROVIDER_CONFIGURATION
    assert not result.error.retryable
    assert "evil.example.com" in result.error.message
    assert "Not retried" in result.error.message
    assert result.resume_prediction_id is None
    assert not (store.root).exists()


async def test_an_empty_output_is_treated_as_sensitive(make_generator: Generate) -> None:
    result = failed(
        await make_generator(IMAGE).generate(Attempt(command(IMAGE, "x [[sim:empty-output]]"), 1))
    )
    assert result.error.code is ErrorCode.SENSITIVE_CONTENT


async def test_an_aborted_prediction_is_transient_not_a_crash(make_generator: Generate) -> None:
    result = failed(
        await make_generator(IMAGE).generate(Attempt(command(IMAGE, "x [[sim:aborted]]"), 1))
    )
    assert (result.error.code, result.error.provider_code) == (
        ErrorCode.TRANSIENT_PROVIDER_ERROR,
        "aborted",
    )
    assert result.resume_prediction_id is None


# --- resuming -----------------------------------------------------------------------------


async def test_resuming_polls_the_known_prediction_and_creates_none(
    make_generator: Generate, provider: Client, sim_http: httpx.AsyncClient
) -> None:
    asset = command(IMAGE, "an orchard [[sim:latency=0.3]]")
    earlier = await provider.models.predictions.async_create(
        model="black-forest-labs/flux-schnell", input=IMAGE.build_input(asset)
    )
    result = succeeded(
        await make_generator(IMAGE).generate(Attempt(asset, 2, resume_prediction_id=earlier.id))
    )
    assert result.debug.prediction_id == earlier.id
    assert await creates(sim_http, "orchard") == 1


async def test_resuming_a_prediction_the_server_no_longer_knows_is_transient(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    asset = command(IMAGE, "a meadow")
    result = failed(
        await make_generator(IMAGE).generate(Attempt(asset, 2, resume_prediction_id="gone123"))
    )
    assert (result.error.code, result.error.retryable) == (ErrorCode.TRANSIENT_PROVIDER_ERROR, True)
    assert result.resume_prediction_id is None
    assert await creates(sim_http, "meadow") == 0


async def test_resuming_a_prediction_that_failed_transiently_makes_a_new_one_at_once(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    payload = IMAGE.build_input(command(IMAGE, "a lagoon [[sim:transient x1]]"))
    created = await sim_http.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": payload},
        headers={"Prefer": "wait=10"},
    )
    old = created.json()
    assert old["status"] == "failed"  # while no attempt watched it (an outage, say)

    asset = command(IMAGE, "a lagoon [[sim:transient x1]]")
    result = succeeded(
        await make_generator(IMAGE).generate(Attempt(asset, 2, resume_prediction_id=old["id"]))
    )
    assert result.debug.prediction_id != old["id"]
    assert await creates(sim_http, "a lagoon") == 2


async def test_a_provider_that_does_not_answer_a_read_fails_the_attempt_within_seconds(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    asset = command(IMAGE, "a reef [[sim:latency=5]]")
    created = await sim_http.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": IMAGE.build_input(asset)},
    )
    prediction_id = created.json()["id"]
    (await sim_http.post("/sim/faults", json={"mode": "outage", "for_s": 60})).raise_for_status()
    try:
        started = time.monotonic()
        result = failed(
            await make_generator(IMAGE).generate(
                Attempt(asset, 2, resume_prediction_id=prediction_id)
            )
        )
        took_s = time.monotonic() - started
    finally:
        (await sim_http.delete("/sim/faults")).raise_for_status()
    assert (result.error.code, result.error.retryable) == (ErrorCode.TRANSIENT_PROVIDER_ERROR, True)
    assert result.resume_prediction_id == prediction_id  # the next attempt resumes it
    assert took_s < READ_PATIENCE_S + 3  # not the client's half a minute of retries
    assert await creates(sim_http, "a reef") == 1


async def test_a_provider_that_does_not_answer_a_webhook_waits_read_fails_it_within_seconds(
    provider: Client,
    downloads: httpx.AsyncClient,
    store: FilesystemBlobStore,
    sim_url: str,
    sim_http: httpx.AsyncClient,
) -> None:
    # webhook mode: no webhook comes (nothing listens where it is sent), so the wait reads the
    # prediction after `fallback_poll_s`; the outage begins once the prediction is made
    webhooks = WebhookWait("http://127.0.0.1:9/v1/webhooks/replicate", CompletionBoard(), 0.2, 8)
    settings = ProviderSettings(api_token="test-token", base_url=sim_url, deadline_s=60)
    generator = ReplicateGenerator(
        provider,
        IMAGE,
        store,
        downloads,
        ReplicateOptions.from_settings(settings),
        webhooks=webhooks,
    )
    made: list[str] = []

    async def outage_begins(prediction_id: str) -> None:
        made.append(prediction_id)
        outage = await sim_http.post("/sim/faults", json={"mode": "outage", "for_s": 60})
        outage.raise_for_status()

    asset = command(IMAGE, "an atoll [[sim:latency=30]]")
    try:
        started = time.monotonic()
        result = failed(await generator.generate(Attempt(asset, 1, on_created=outage_begins)))
        took_s = time.monotonic() - started
    finally:
        (await sim_http.delete("/sim/faults")).raise_for_status()
    assert (result.error.code, result.error.retryable) == (ErrorCode.TRANSIENT_PROVIDER_ERROR, True)
    assert webhooks.fallback_reads == 1  # the read, not the webhook wait, ended the attempt
    assert result.resume_prediction_id == made[0]  # the next attempt resumes it
    assert took_s < READ_PATIENCE_S + 3  # not the client's half a minute of retries
    assert await creates(sim_http, "an atoll") == 1


# --- expired outputs ----------------------------------------------------------------------


async def test_an_expired_output_is_made_again_by_a_new_prediction_not_read_as_censored(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    made: list[str] = []

    async def on_created(prediction_id: str) -> None:
        made.append(prediction_id)

    asset = command(IMAGE, "a glacier [[sim:expire-output x1]]")
    result = succeeded(
        await make_generator(IMAGE).generate(Attempt(asset, 1, on_created=on_created))
    )
    assert await creates(sim_http, "glacier") == 2
    assert result.debug.prediction_id == made[-1]
    assert len(made) == 2  # the new prediction is reported, so a crash resumes it


async def test_resuming_a_prediction_whose_output_expired_makes_a_new_one(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    payload = {**IMAGE.build_input(command(IMAGE, "a dune [[sim:expire-output x1]]"))}
    created = await sim_http.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": payload},
        headers={"Prefer": "wait=10"},
    )
    old = created.json()
    assert (old["status"], old["output"], old["data_removed"]) == ("succeeded", None, True)

    asset = command(IMAGE, "a dune [[sim:expire-output x1]]")
    result = succeeded(
        await make_generator(IMAGE).generate(Attempt(asset, 2, resume_prediction_id=old["id"]))
    )
    assert result.debug.prediction_id != old["id"]
    assert await creates(sim_http, "a dune") == 2


async def test_a_new_prediction_whose_output_expired_too_fails_transiently_without_resume(
    make_generator: Generate, sim_http: httpx.AsyncClient
) -> None:
    asset = command(IMAGE, "a mirage [[sim:expire-output x2]]")
    result = failed(await make_generator(IMAGE).generate(Attempt(asset, 1)))
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert (result.error.provider_code, result.error.user_action_required) == (
        "data_removed",
        False,
    )
    assert result.resume_prediction_id is None  # the next attempt starts afresh
    assert await creates(sim_http, "mirage") == 2


async def test_an_empty_output_that_did_not_expire_is_still_the_safety_filter(
    make_generator: Generate,
) -> None:
    result = failed(
        await make_generator(IMAGE).generate(Attempt(command(IMAGE, "x [[sim:empty-output]]"), 1))
    )
    assert result.error.code is ErrorCode.SENSITIVE_CONTENT


# --- the model registry and the local server agree ----------------------------------------

KOKORO_VERSION = "f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
MUSICGEN_VERSION = "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
RUNS_OF_EVERY_ROW: list[tuple[MediumSpec, str, dict[str, Any]]] = [
    (IMAGE, "black-forest-labs/flux-schnell", {}),
    (IMAGE, "black-forest-labs/flux-1.1-pro", {"safety_tolerance": 2}),
    (VIDEO, "minimax/video-01", {"prompt_optimizer": False}),
    (VIDEO, "google/veo-3", {"negative_prompt": "blur"}),
    (NARRATION, "minimax/speech-02-turbo", {"voice_id": "Deep_Voice_Man", "speed": 1.2}),
    (NARRATION, "minimax/speech-02-hd", {}),
    (NARRATION, f"jaaari/kokoro-82m:{KOKORO_VERSION}", {"voice_id": "af_sky", "speed": 1.1}),
    (MUSIC, f"meta/musicgen:{MUSICGEN_VERSION}", {"output_format": "mp3"}),
    (MUSIC, "stability-ai/stable-audio-2.5", {}),
]


@pytest.mark.parametrize(
    ("spec", "model", "params"), RUNS_OF_EVERY_ROW, ids=[m for _, m, _ in RUNS_OF_EVERY_ROW]
)
async def test_every_registry_row_builds_an_input_its_model_accepts(
    make_generator: Generate,
    sim_http: httpx.AsyncClient,
    spec: MediumSpec,
    model: str,
    params: dict[str, Any],
) -> None:
    assert {schema.ref for schema in REGISTRY.values()} == {
        m.split(":")[0] for _, m, _ in RUNS_OF_EVERY_ROW
    }
    asset = command(spec, "the tides of the north sea", model=model, params=params, duration_s=3)
    result = succeeded(await make_generator(spec).generate(Attempt(asset, 1)))
    assert result.debug.model == model
    # what the server received: only inputs the model's row lists, e.g. no `voice_id` to kokoro
    stats = (await sim_http.get("/sim/stats", params={"contains": "north sea"})).json()
    (seen,) = stats["inputs"].values()
    row = REGISTRY[model.split(":")[0]]
    assert set(seen["input"]) <= {row.text_field, *row.inputs}
