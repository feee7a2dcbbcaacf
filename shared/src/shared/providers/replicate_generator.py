"""`ReplicateGenerator`: one attempt at one asset, through Replicate's prediction API.

An attempt creates a prediction (or, when the attempt carries `resume_prediction_id`, polls
the one an earlier attempt started: it never creates a second), reports the new prediction's
id through `Attempt.on_created` before it waits, polls it (or, in webhook mode, waits for its
webhook: `shared.providers.webhook_wait`) until it ends or the deadline passes, downloads its
output from an allowed host and stores it. Every provider failure comes back as a classified
`GenerationFailed`; only bugs raise.

When does a failure carry `resume_prediction_id`? Exactly when a prediction exists that may
still finish, or has finished with an output we have not fetched yet, so the next attempt can
collect it without paying twice:

- the deadline passed and cancelling did not take (the cancel call failed, timed out, or
  answered a prediction still running), or the cancel answer shows it had just succeeded;
- polling failed on the way (network trouble, a 5xx) while the prediction was running;
- the prediction succeeded but downloading or storing its output failed transiently.

It is None when no prediction was made (the create call failed or was cut), when the
prediction ended in failure, when our cancel was confirmed, and for every error that is not
retryable. A create whose answer was lost may still have made a prediction we cannot know of;
that one is lost (Replicate has no idempotency key for creates).

An expired output (Replicate deletes outputs after about an hour: the prediction then reads
`output: null`, `data_removed: true`) is a transient loss, never the model's safety filter:
the attempt makes one new prediction at once; if that one's output is gone too, it fails
transiently without a prediction to resume, so the next attempt starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
import pydantic
from pydantic import v1 as pydantic_v1
from replicate.client import Client
from replicate.exceptions import ReplicateException
from replicate.prediction import Prediction

from shared.blobstore import BlobStoreError, sniff_content_type
from shared.errors import ErrorCode, GenerationError, redact
from shared.ports import Attempt, BlobStore
from shared.providers.budget import AccountBudget, Call
from shared.providers.classify import PROVIDER, classify_exception, classify_prediction
from shared.providers.client import forget_retry_after, last_rate_hints
from shared.providers.medium import MediumSpec
from shared.providers.model_ref import ModelRef
from shared.providers.options import ReplicateOptions
from shared.providers.outputs import fetch_output, first_output
from shared.providers.polling import PollSchedule, next_poll_s, schedule_for
from shared.providers.reads import read_prediction
from shared.providers.webhook_wait import WebhookWait
from shared.results import (
    GenerationDebug,
    GenerationFailed,
    GenerationResult,
    GenerationSucceeded,
    StoredMedia,
)

log = logging.getLogger(__name__)

PROVIDER_ERRORS = (
    ReplicateException,
    httpx.HTTPError,
    pydantic_v1.ValidationError,
    pydantic.ValidationError,
)
"""What the client and the network raise for provider trouble; anything else is a bug."""

_TERMINAL = frozenset({"succeeded", "failed", "canceled"})
_PROMPT_PREVIEW = 120
MAX_OWN_THROTTLES = 10
"""Creates answered 429 because of this process's own rate that one attempt sends again (after
the budget's hold) before the 429 counts as the attempt's failure."""


class ReplicateGenerator:
    """A `Generator` for one medium, over a shared `replicate.Client`."""

    def __init__(
        self,
        client: Client,
        spec: MediumSpec,
        blobs: BlobStore,
        downloads: httpx.AsyncClient,
        options: ReplicateOptions | None = None,
        *,
        webhooks: WebhookWait | None = None,
        budget: AccountBudget | None = None,
    ) -> None:
        self._client = client
        self._spec = spec
        self._blobs = blobs
        self._downloads = downloads
        self._options = options or ReplicateOptions()
        self._webhooks = webhooks
        """Set in webhook mode: predictions are waited for by webhook instead of polled."""
        self._budget = budget
        """The process's account budget the client spends; polls are spread to fit it."""

    async def generate(self, attempt: Attempt) -> GenerationResult:
        return await _AttemptRun(self, attempt).run()


class _AttemptRun:
    """The state of one `generate` call: which prediction it is about, and its deadline."""

    def __init__(self, generator: ReplicateGenerator, attempt: Attempt) -> None:
        self.gen = generator
        self.opts = generator._options
        self.attempt = attempt
        self.model = generator._spec.model_for(attempt.command)
        self.prediction_id = attempt.resume_prediction_id
        self.deadline = 0.0

    async def run(self) -> GenerationResult:
        # In webhook mode, room for one more outstanding prediction first: waiting for it is
        # not the attempt's time, so the deadline starts once there is room.
        webhooks = self.gen._webhooks
        async with contextlib.nullcontext() if webhooks is None else webhooks.room():
            self.deadline = asyncio.get_running_loop().time() + self.opts.deadline_s
            return await self._run()

    async def _run(self) -> GenerationResult:
        try:
            ref = ModelRef.parse(self.model)
        except ValueError as exc:
            return self.failed(GenerationError.configuration(str(exc), provider=PROVIDER))
        try:
            async with asyncio.timeout_at(self.deadline):
                prediction = await self.finished(ref)
        except TimeoutError:
            return await self.on_deadline()
        except PROVIDER_ERRORS as exc:
            return self.on_error(exc)
        if isinstance(prediction, GenerationError):
            return self.failed(prediction)
        error = classify_prediction(
            prediction.status, prediction.error, prediction.output, context=self.context()
        )
        if error is not None:
            return self.failed(error)
        return await self.collect(prediction.output)

    # --- the prediction -------------------------------------------------------------------

    async def start(self, ref: ModelRef) -> Prediction:
        """Poll the prediction to resume, or create one."""
        if self.prediction_id is not None:
            return await self.check(self.prediction_id)
        prediction = await self.create(ref)
        self.prediction_id = prediction.id
        if self.attempt.on_created is not None:
            # before waiting: from here on a crash can be resumed instead of paid for twice
            await self.attempt.on_created(prediction.id)
        return prediction

    async def create(self, ref: ModelRef) -> Prediction:
        """Create the prediction. A 429 caused by this process's own rate (it has been sending
        creates as fast as its budget allows) does not fail the attempt: no prediction was
        made, so the create is sent again once the budget's hold is over."""
        client = self.gen._client
        payload = self.gen._spec.build_input(self.attempt.command)
        options = {} if self.gen._webhooks is None else self.gen._webhooks.create_options()
        throttles = 0
        while True:
            forget_retry_after()
            try:
                if ref.version is None:
                    return await client.models.predictions.async_create(
                        model=ref.model, input=payload, **options
                    )
                return await client.predictions.async_create(
                    version=ref.version, input=payload, **options
                )
            except ReplicateException as exc:
                if not self.throttled_by_own_rate(exc) or throttles == MAX_OWN_THROTTLES:
                    raise
            throttles += 1
            log.info("create throttled at our own rate; sending it again", extra=self.context())

    def throttled_by_own_rate(self, exc: ReplicateException) -> bool:
        """A 429 that came while this process was being paced by its create budget."""
        budget = self.gen._budget
        throttled = getattr(exc, "status", None) == 429
        return throttled and budget is not None and budget.own_rate(Call.CREATE)

    async def wait(self, prediction: Prediction) -> Prediction:
        """Poll until the prediction ends (the caller's deadline bounds this)."""
        if self.gen._webhooks is not None:
            return await self.gen._webhooks.wait(self.gen._client, prediction, self.attempt)
        schedule = schedule_for(self.gen._spec.kind, self.opts.poll_interval_s)
        budget = self.gen._budget
        with contextlib.nullcontext() if budget is None else budget.polling_one():
            checks = 0
            while prediction.status not in _TERMINAL:
                await asyncio.sleep(self.poll_delay(schedule, checks))
                checks += 1
                prediction = await self.check(prediction.id)
        return prediction

    async def check(self, prediction_id: str) -> Prediction:
        """Read the prediction once, within `READ_PATIENCE_S` (`shared.providers.reads`): a
        provider that does not answer fails the attempt as unavailable, and the next attempt
        resumes the prediction."""
        return await read_prediction(self.gen._client, prediction_id)

    def poll_delay(self, schedule: PollSchedule, checks: int) -> float:
        budget = self.gen._budget
        if budget is None:
            return schedule.delay(checks)
        return next_poll_s(schedule, checks, budget.polling, budget.reads_per_s())

    async def finished(self, ref: ModelRef) -> Prediction | GenerationError:
        """The prediction once it has ended; a new one if the first one's output expired, or
        if the one this attempt resumed had failed transiently while no attempt watched it."""
        resuming = self.prediction_id is not None
        prediction = await self.wait(await self.start(ref))
        if resuming and self.failed_transiently(prediction):
            # what this retry is for: the old failure (an outage it ended in, say) is not news
            # about the provider now, and must not be taken for this attempt's own
            self.prediction_id = None
            prediction = await self.wait(await self.start(ref))
        if not await self.output_expired(prediction):
            return prediction
        self.prediction_id = None  # gone for good: make a new one
        prediction = await self.wait(await self.start(ref))
        if await self.output_expired(prediction):
            return self.expired_error(prediction.id)
        return prediction

    def failed_transiently(self, prediction: Prediction) -> bool:
        if prediction.status != "failed":
            return False
        error = classify_prediction(
            prediction.status, prediction.error, prediction.output, context=self.context()
        )
        return error is not None and error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR

    async def output_expired(self, prediction: Prediction) -> bool:
        """Whether a succeeded prediction without output lost it to expiry (`data_removed`),
        rather than to the model's safety filter. The client's `Prediction` drops that field,
        so the raw prediction is read once, only for a succeeded one without output."""
        if prediction.status != "succeeded" or prediction.output not in (None, "", [], {}):
            return False
        answer = await self.gen._client._async_request("GET", f"/v1/predictions/{prediction.id}")
        raw = answer.json()
        return isinstance(raw, dict) and raw.get("data_removed") is True

    def expired_error(self, prediction_id: str) -> GenerationError:
        message = (
            f"The output of prediction {prediction_id} expired before it was collected "
            "(Replicate deletes outputs after about an hour); a new prediction will be made."
        )
        return GenerationError.transient(message, provider=PROVIDER, provider_code="data_removed")

    async def on_deadline(self) -> GenerationResult:
        """Cut by the deadline: cancel what runs, and say whether it may still finish."""
        limit = f"{self.opts.deadline_s:g}s"
        if self.prediction_id is None:
            message = f"Replicate did not answer the create call within {limit}."
            return self.failed(GenerationError.transient(message, provider=PROVIDER))
        answer = await self.cancel(self.prediction_id)
        if isinstance(answer, GenerationError):
            return self.failed(answer)
        if answer is not None and answer.status == "canceled":
            message = f"The prediction did not finish within {limit} and was canceled."
            return self.failed(GenerationError.transient(message, provider=PROVIDER))
        if answer is not None and answer.status == "failed":
            error = classify_prediction("failed", answer.error, None, context=self.context())
            return self.failed(error or GenerationError.unknown(limit, provider=PROVIDER))
        finished = answer is not None and answer.status == "succeeded"
        message = (
            f"The prediction did not finish within {limit}"
            + (" (it finished as it was being canceled)." if finished else ".")
            + " The next attempt collects it instead of creating another."
        )
        return self.failed(GenerationError.transient(message, provider=PROVIDER), resume=True)

    async def cancel(self, prediction_id: str) -> Prediction | GenerationError | None:
        """The cancel call's answer; an error if that answer says how it ended (`aborted`);
        None if the call failed, so we cannot tell whether it still runs."""
        try:
            async with asyncio.timeout(self.opts.cancel_timeout_s):
                return await self.gen._client.predictions.async_cancel(prediction_id)
        except (pydantic_v1.ValidationError, pydantic.ValidationError) as exc:
            return classify_exception(exc, context=self.context())
        except (TimeoutError, *PROVIDER_ERRORS):
            return None

    def on_error(self, exc: BaseException) -> GenerationResult:
        """The client or the network failed while creating or polling."""
        if _gone(exc) and self.prediction_id is not None:
            # The prediction we meant to resume (or just made) is unknown to the server: it
            # cannot finish, so the next attempt creates a new one.
            message = f"Prediction {self.prediction_id} is no longer known to Replicate."
            error = GenerationError.transient(message, provider=PROVIDER, provider_code="404")
            return self.failed(error)
        error = classify_exception(exc, hints=last_rate_hints(), context=self.context())
        # An unreadable prediction is an `aborted` one: it has ended. Any other failure
        # while polling leaves the prediction running.
        ended = isinstance(exc, pydantic_v1.ValidationError | pydantic.ValidationError)
        return self.failed(error, resume=not ended)

    # --- the output -------------------------------------------------------------------------

    async def collect(self, output: object) -> GenerationResult:
        """Download and store the output of a succeeded prediction."""
        try:
            async with asyncio.timeout_at(self.deadline):
                media = await self.store(output)
        except GenerationError as error:
            return self.failed(error, resume=True)
        except TimeoutError:
            message = f"Downloading the output took longer than {self.opts.deadline_s:g}s."
            return self.failed(GenerationError.transient(message, provider=PROVIDER), resume=True)
        except (BlobStoreError, OSError) as exc:
            message = f"Storing the output failed: {type(exc).__name__}: {exc}"
            return self.failed(GenerationError.transient(message), resume=True)
        except httpx.HTTPError as exc:
            return self.failed(classify_exception(exc, context=self.context()), resume=True)
        return GenerationSucceeded(kind=self.gen._spec.kind, media=media, debug=self.debug())

    async def store(self, output: object) -> StoredMedia:
        opts, spec = self.opts, self.gen._spec
        fetched = await fetch_output(
            first_output(output),
            self.gen._downloads,
            opts.allowed_output_hosts,
            opts.max_output_bytes,
        )
        content_type = sniff_content_type(fetched.data) or fetched.declared_type
        if content_type not in spec.content_types:
            raise GenerationError.provider_failure(
                f"The model returned {content_type or 'unrecognised data'}, not "
                f"{' or '.join(sorted(spec.content_types))}.",
                provider=PROVIDER,
            )
        return await self.gen._blobs.put(fetched.data, content_type)

    # --- results ----------------------------------------------------------------------------

    def failed(self, error: GenerationError, *, resume: bool = False) -> GenerationFailed:
        """A failed result; `resume` asks to hand the prediction to the next attempt, which
        only happens for retryable errors of a prediction we know."""
        error.context.update(redact(self.context()))
        keep = resume and error.retryable and self.prediction_id is not None
        return GenerationFailed(
            kind=self.gen._spec.kind,
            error=error,
            debug=self.debug(),
            resume_prediction_id=self.prediction_id if keep else None,
        )

    def debug(self) -> GenerationDebug:
        return GenerationDebug(
            prompt=self.attempt.command.prompt,
            model=self.model,
            provider=PROVIDER,
            prediction_id=self.prediction_id,
        )

    def context(self) -> dict[str, Any]:
        command = self.attempt.command
        return {
            "prompt_preview": command.prompt[:_PROMPT_PREVIEW],
            "model": self.model,
            "prediction_id": self.prediction_id,
            "attempt": self.attempt.number,
            "asset_id": command.asset_id,
            "deadline_s": self.opts.deadline_s,
        }


def _gone(exc: BaseException) -> bool:
    return isinstance(exc, ReplicateException) and getattr(exc, "status", None) == 404
