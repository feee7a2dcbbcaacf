"""`ReplicateGenerator` in the situations the local server cannot stage: cancel calls that fail
or come too late, polls that break, downloads and storage that fail after a success.

The real `replicate` client talks to `InMemoryReplicate`, a hand-written fake of the few API
routes, through httpx's in-memory transport.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from replicate.client import Client

from shared.blobstore import BlobStoreError
from shared.errors import ErrorCode
from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.ports import Attempt, BlobInfo
from shared.providers import MediumSpec, ReplicateGenerator, ReplicateOptions
from shared.results import GenerationFailed, GenerationResult, GenerationSucceeded, StoredMedia
from shared.settings import ProviderSettings
from shared.testing.fakes import InMemoryBlobStore

API = "https://api.replicate.test"
FILE_URL = "https://replicate.delivery/out/1.png"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SPEC = MediumSpec(
    kind=MediaKind.IMAGE,
    default_model="black-forest-labs/flux-schnell",
    content_types=frozenset({"image/png"}),
)


@dataclass
class InMemoryReplicate:
    """Predictions in a dict; each poll moves a prediction one step along its `script`."""

    script: list[dict[str, Any]] = field(
        default_factory=lambda: [{"status": "succeeded", "output": [FILE_URL]}]
    )
    create_answer: httpx.Response | None = None
    poll_answer: httpx.Response | None = None
    cancel_answer: dict[str, Any] | None = None
    cancel_status: int = 200
    refuse_connections: bool = False
    file: httpx.Response = field(
        default_factory=lambda: httpx.Response(200, content=PNG, headers={"content-type": "x/y"})
    )
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_connections:
            raise httpx.ConnectError("connection refused", request=request)
        self.calls.append(f"{request.method} {request.url.path}")
        path = request.url.path
        if str(request.url) == FILE_URL:
            return self.file
        if request.method == "POST" and path.endswith("/cancel"):
            return self._cancel(path.split("/")[3])
        if request.method == "POST":
            return self.create_answer or self._create(json.loads(request.content))
        if self.poll_answer is not None:
            return self.poll_answer
        return self._poll(path.rsplit("/", 1)[1])

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        prediction_id = f"p{next(self._ids)}"
        self.predictions[prediction_id] = [*self.script]
        return httpx.Response(201, json=_prediction(prediction_id, {"status": "starting"}))

    def _poll(self, prediction_id: str) -> httpx.Response:
        steps = self.predictions.get(prediction_id)
        if steps is None:
            return httpx.Response(404, json={"detail": "Not found.", "status": 404})
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        return httpx.Response(200, json=_prediction(prediction_id, step))

    def _cancel(self, prediction_id: str) -> httpx.Response:
        answer = self.cancel_answer or {"status": "canceled"}
        if self.cancel_status != 200:
            return httpx.Response(self.cancel_status, json={"detail": "Internal error"})
        return httpx.Response(200, json=_prediction(prediction_id, answer))


def _prediction(prediction_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": prediction_id,
        "model": "black-forest-labs/flux-schnell",
        "version": "hidden",
        "input": {},
        "output": None,
        "logs": "",
        "error": None,
        "metrics": {},
        "created_at": "2026-01-01T00:00:00Z",
        "urls": {},
        **fields,
    }


class FailingBlobStore(InMemoryBlobStore):
    async def put(self, data: bytes, content_type: str) -> StoredMedia:
        raise BlobStoreError("PUT answered HTTP 503")

    async def stat(self, key: str) -> BlobInfo | None:
        return None


@pytest.fixture
def fake() -> InMemoryReplicate:
    return InMemoryReplicate()


@pytest.fixture
async def clients(fake: InMemoryReplicate) -> AsyncIterator[tuple[Client, httpx.AsyncClient]]:
    transport = httpx.MockTransport(fake.handle)
    client = Client(api_token="test-token", base_url=API, transport=transport)
    async with httpx.AsyncClient(transport=transport) as downloads:
        yield client, downloads
    await client._async_client.aclose()


@pytest.fixture
def generate(
    clients: tuple[Client, httpx.AsyncClient],
) -> Callable[..., Any]:
    async def run(
        prompt: str = "a cat",
        *,
        model: str = "",
        resume: str | None = None,
        on_created: Callable[[str], Awaitable[None]] | None = None,
        deadline_s: float = 5.0,
        blobs: InMemoryBlobStore | None = None,
        max_bytes: int = 10_000,
    ) -> GenerationResult:
        options = ReplicateOptions(
            deadline_s=deadline_s,
            poll_interval_s=0.005,
            cancel_timeout_s=1.0,
            max_output_bytes=max_bytes,
        )
        generator = ReplicateGenerator(
            clients[0], SPEC, blobs or InMemoryBlobStore(), clients[1], options
        )
        command = GenerateAsset(
            command_id="c1",
            lecture_id="l1",
            asset_id="a1",
            kind=MediaKind.IMAGE,
            prompt_version=1,
            prompt=prompt,
            model=model,
            requested_at=datetime(2026, 1, 1, tzinfo=UTC),
            correlation_id="k1",
        )
        attempt = Attempt(command, 1, resume_prediction_id=resume, on_created=on_created)
        return await generator.generate(attempt)

    return run


def failed(result: GenerationResult) -> GenerationFailed:
    assert isinstance(result, GenerationFailed), result
    return result


RUNNING = {"status": "processing"}


# --- success ---------------------------------------------------------------------------------


async def test_a_prediction_that_succeeds_is_downloaded_sniffed_and_stored(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    blobs = InMemoryBlobStore()
    result = await generate(blobs=blobs)
    assert isinstance(result, GenerationSucceeded)
    assert result.media.content_type == "image/png"  # sniffed, not the declared "x/y"
    assert blobs.blobs[result.media.blob_key] == PNG
    assert fake.calls[0] == "POST /v1/models/black-forest-labs/flux-schnell/predictions"


async def test_a_version_reference_creates_through_the_versions_route(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    await generate(model="someone/model:abc123")
    assert fake.calls[0] == "POST /v1/predictions"


async def test_a_resumed_prediction_that_already_succeeded_is_collected_without_a_create(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.predictions["p-old"] = [{"status": "succeeded", "output": FILE_URL}]
    result = await generate(resume="p-old")
    assert isinstance(result, GenerationSucceeded)
    assert result.debug.prediction_id == "p-old"
    assert not any(call.startswith("POST") for call in fake.calls)


async def test_a_new_prediction_is_reported_as_created_before_it_is_polled(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    reported: list[tuple[str, list[str]]] = []

    async def on_created(prediction_id: str) -> None:
        reported.append((prediction_id, list(fake.calls)))

    result = await generate(on_created=on_created)

    assert isinstance(result, GenerationSucceeded)
    ((prediction_id, calls_so_far),) = reported
    assert prediction_id == result.debug.prediction_id
    assert calls_so_far == ["POST /v1/models/black-forest-labs/flux-schnell/predictions"]


async def test_a_resumed_prediction_is_not_reported_as_created(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.predictions["p-old"] = [RUNNING, {"status": "succeeded", "output": FILE_URL}]
    reported: list[str] = []

    async def on_created(prediction_id: str) -> None:
        reported.append(prediction_id)

    result = await generate(resume="p-old", on_created=on_created)

    assert isinstance(result, GenerationSucceeded)
    assert reported == []


# --- the deadline and the cancel that follows -----------------------------------------------


async def test_when_the_cancel_call_fails_the_prediction_is_handed_to_the_next_attempt(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script, fake.cancel_status = [RUNNING], 500
    result = failed(await generate(deadline_s=0.1))
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert result.resume_prediction_id == "p0"
    assert "next attempt collects it" in result.error.message


async def test_when_the_cancel_answers_still_running_the_prediction_is_handed_on(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script, fake.cancel_answer = [RUNNING], RUNNING
    assert failed(await generate(deadline_s=0.1)).resume_prediction_id == "p0"


async def test_a_prediction_that_succeeded_as_it_was_canceled_is_handed_on(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script = [RUNNING]
    fake.cancel_answer = {"status": "succeeded", "output": [FILE_URL]}
    result = failed(await generate(deadline_s=0.1))
    assert result.resume_prediction_id == "p0"
    assert "finished as it was being canceled" in result.error.message


async def test_a_prediction_that_failed_as_it_was_canceled_reports_its_own_error(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script = [RUNNING]
    fake.cancel_answer = {"status": "failed", "error": "flagged as sensitive (E005)"}
    result = failed(await generate(deadline_s=0.1))
    assert result.error.code is ErrorCode.SENSITIVE_CONTENT
    assert result.resume_prediction_id is None


async def test_a_confirmed_cancel_leaves_nothing_to_resume(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script = [RUNNING]
    result = failed(await generate(deadline_s=0.1))
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert result.resume_prediction_id is None
    assert "POST /v1/predictions/p0/cancel" in fake.calls


# --- failures on the way --------------------------------------------------------------------


async def test_a_broken_poll_hands_the_running_prediction_on(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.poll_answer = httpx.Response(500, json={"detail": "Internal error", "status": 500})
    result = failed(await generate())
    assert (result.error.code, result.error.provider_code) == (
        ErrorCode.TRANSIENT_PROVIDER_ERROR,
        "500",
    )
    assert result.resume_prediction_id == "p0"


async def test_a_network_failure_at_create_is_transient_with_nothing_to_resume(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.refuse_connections = True
    result = failed(await generate())
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert (result.resume_prediction_id, result.debug.prediction_id) == (None, None)


async def test_a_bad_token_is_a_configuration_error(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.create_answer = httpx.Response(
        401, json={"title": "Unauthenticated", "detail": "You did not pass a valid token"}
    )
    result = failed(await generate())
    assert (result.error.code, result.error.provider_code) == (
        ErrorCode.PROVIDER_CONFIGURATION,
        "401",
    )
    assert not result.error.retryable


async def test_a_malformed_model_reference_is_a_configuration_error_and_sends_nothing(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    result = failed(await generate(model="not a model"))
    assert result.error.code is ErrorCode.PROVIDER_CONFIGURATION
    assert fake.calls == []


async def test_a_failed_download_after_success_hands_the_prediction_on(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.file = httpx.Response(503)
    result = failed(await generate())
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert result.resume_prediction_id == "p0"


async def test_output_of_the_wrong_kind_is_a_provider_failure(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.file = httpx.Response(
        200, content=b"<html>oops</html>", headers={"content-type": "text/html"}
    )
    result = failed(await generate())
    assert result.error.code is ErrorCode.PROVIDER_FAILURE
    assert "text/html" in result.error.message
    assert result.resume_prediction_id is None


async def test_an_output_over_the_size_cap_is_a_provider_failure(
    generate: Callable[..., Any],
) -> None:
    result = failed(await generate(max_bytes=10))
    assert result.error.code is ErrorCode.PROVIDER_FAILURE
    assert not result.error.retryable


async def test_a_storage_failure_is_retryable_and_keeps_the_paid_prediction(
    generate: Callable[..., Any],
) -> None:
    result = failed(await generate(blobs=FailingBlobStore()))
    assert result.error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert result.error.provider is None  # our storage failed, not the provider
    assert result.resume_prediction_id == "p0"


async def test_failure_context_names_prompt_model_and_prediction_but_no_token(
    generate: Callable[..., Any], fake: InMemoryReplicate
) -> None:
    fake.script = [{"status": "failed", "error": "Prediction failed."}]
    error = failed(await generate(prompt="a very long prompt " * 20)).error
    assert error.context["prompt_preview"] == ("a very long prompt " * 20)[:120]
    assert error.context["model"] == "black-forest-labs/flux-schnell"
    assert error.context["prediction_id"] == "p0"
    assert "test-token" not in repr(error.context)


def test_options_from_settings_allow_the_configured_servers_own_host_and_port() -> None:
    settings = ProviderSettings(
        base_url="http://127.0.0.1:18080", deadline_s=30, allowed_output_hosts=("cdn.example",)
    )
    options = ReplicateOptions.from_settings(settings)
    assert options.allowed_output_hosts == ("cdn.example", "127.0.0.1:18080")
    assert options.deadline_s == 30
    real = ProviderSettings(
        base_url="https://api.replicate.com", allowed_output_hosts=("replicate.delivery",)
    )
    assert ReplicateOptions.from_settings(real).allowed_output_hosts == (
        "replicate.delivery",
        "api.replicate.com:443",
    )
