"""What one finished attempt comes to, one class per outcome: the event that says so (and so
the asset's status, `AssetEvent.STATUS`), every record it writes, what the idempotency row
keeps, and how it is counted and logged.

`outcome_of` is the one place that tells the outcomes apart; a new outcome is a class here
and its case there. Pure but for `account`, which only counts and logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from shared.errors import GenerationError
from shared.events import (
    AssetEvent,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetRetrying,
    GenerateAsset,
    MediaRef,
)
from shared.kafka.records import Outgoing, Record
from shared.results import GenerationFailed, GenerationResult
from shared.retry import Decision, Fail, NeedsPromptUpdate, Retry
from shared.status import AssetStatus
from shared.worker.metrics import WorkerMetrics
from shared.worker.versions import Ended, Scheduled, Settlement
from shared.worker.writer import Writer, asset_fields

log = logging.getLogger("shared.worker")

LogFields = dict[str, object]


@dataclass(frozen=True, slots=True)
class Finished:
    """An attempt that has its result: what every outcome is made of."""

    record: Record
    """The request or retry record the attempt ran for."""
    command: GenerateAsset
    attempt: int
    result: GenerationResult
    now: datetime

    @property
    def model(self) -> str:
        return self.result.debug.model or self.command.model

    @property
    def failure(self) -> GenerationFailed:
        """The failed attempt's result (only outcomes of failures ask for it)."""
        if self.result.ok:
            raise ValueError("the attempt succeeded")
        return self.result

    @property
    def error(self) -> GenerationError:
        return self.failure.error


@dataclass(frozen=True, slots=True)
class Outcome:
    """The common part of every outcome; each subclass names its `event`."""

    event: ClassVar[type[AssetEvent]]
    finished: Finished

    @property
    def status(self) -> AssetStatus:
        return self.event.STATUS

    @property
    def settlement(self) -> Settlement:
        """What the idempotency row records: the asset version ended with this status."""
        return Ended(self.status)

    def records(self, writer: Writer) -> list[Outgoing]:
        """Every record this outcome writes, in the order they are produced."""
        raise NotImplementedError

    def account(self, metrics: WorkerMetrics, fields: LogFields) -> None:
        """Count and log a final outcome (the asset version ended here)."""
        finished = self.finished
        metrics.attempt(self.status.value)
        self._count_error(metrics, fields)
        fields["retries"] = finished.attempt - 1
        seconds = (finished.now - finished.command.requested_at).total_seconds()
        metrics.finished(self.status.value, seconds)
        log.info("asset %s", self.status.value, extra=fields)

    def _count_error(self, metrics: WorkerMetrics, fields: LogFields) -> None:
        if not self.finished.result.ok:
            error = self.finished.error
            metrics.error(error.code)
            fields.update(code=error.code.value, provider_code=error.provider_code)


@dataclass(frozen=True, slots=True)
class Generated(Outcome):
    """The media is stored: `asset.generated`."""

    event = AssetGenerated

    def records(self, writer: Writer) -> list[Outgoing]:
        f = self.finished
        result = f.result
        if not result.ok:
            raise ValueError("a failed attempt is not generated")
        generated = AssetGenerated(
            **asset_fields(f.command),
            media=MediaRef(
                blob_key=result.media.blob_key,
                content_type=result.media.content_type,
                size_bytes=result.media.size_bytes,
                duration_s=result.media.duration_s,
            ),
            prompt=f.command.prompt,
            model=f.model,
            provider=result.debug.provider,
            prediction_id=result.debug.prediction_id,
            attempts=f.attempt,
            retried_count=f.attempt - 1,
        )
        return [writer.event(f.command, generated, f.now)]


@dataclass(frozen=True, slots=True)
class RetryScheduled(Outcome):
    """A transient failure with retries left: `asset.retrying`, and the request on its tier."""

    event = AssetRetrying
    decision: Retry

    @property
    def settlement(self) -> Settlement:
        return Scheduled()

    def records(self, writer: Writer) -> list[Outgoing]:
        f, decision = self.finished, self.decision
        retrying = AssetRetrying(
            **asset_fields(f.command),
            attempt=f.attempt,
            retried_count=decision.retry_number,
            delay_s=decision.delay_s,
            next_attempt_at=decision.due_at,
            error=f.error.info,
            model=f.model,
        )
        failure = f.failure
        again = writer.retry(
            f.record,
            f.command,
            f.attempt + 1,
            decision,
            f.error,
            failure.resume_prediction_id,
            failure.waiting_since,
        )
        return [writer.event(f.command, retrying, f.now), again]

    def account(self, metrics: WorkerMetrics, fields: LogFields) -> None:
        metrics.attempt(self.status.value)
        self._count_error(metrics, fields)
        metrics.retry(self.decision.tier_ms)
        fields.update(retries=self.decision.retry_number, delay_s=self.decision.delay_s)
        log.info("attempt failed; retry scheduled", extra=fields)


@dataclass(frozen=True, slots=True)
class PromptUpdateRequired(Outcome):
    """The provider rejected the content or input: `asset.needs-prompt-update`."""

    event = AssetNeedsPromptUpdate
    decision: NeedsPromptUpdate

    def records(self, writer: Writer) -> list[Outgoing]:
        f = self.finished
        needs = AssetNeedsPromptUpdate(
            **asset_fields(f.command),
            error=f.error.info,
            prompt=f.command.prompt,
            model=f.model,
            retried_count=self.decision.retried_count,
            attempts=f.attempt,
        )
        return [writer.event(f.command, needs, f.now)]


@dataclass(frozen=True, slots=True)
class Failed(Outcome):
    """Failed for good: `asset.failed`, and a copy of the request on the dead-letter topic."""

    event = AssetFailed
    decision: Fail

    @property
    def dead_letter_reason(self) -> str:
        return "exhausted" if self.decision.exhausted else "failed"

    def records(self, writer: Writer) -> list[Outgoing]:
        f = self.finished
        failed = AssetFailed(
            **asset_fields(f.command),
            error=f.error.info,
            prompt=f.command.prompt,
            model=f.model,
            retried_count=self.decision.retried_count,
            attempts=f.attempt,
        )
        return [
            writer.event(f.command, failed, f.now),
            writer.dead_letter(f.record, self.dead_letter_reason, f.error),
        ]

    def account(self, metrics: WorkerMetrics, fields: LogFields) -> None:
        metrics.dead_letter(self.dead_letter_reason)
        Outcome.account(self, metrics, fields)


def outcome_of(finished: Finished, decision: Decision | None) -> Outcome:
    """The outcome of `finished`; `decision` is what `shared.retry.decide` said about its
    failure (None for a success)."""
    if finished.result.ok:
        return Generated(finished)
    match decision:
        case Retry():
            return RetryScheduled(finished, decision)
        case NeedsPromptUpdate():
            return PromptUpdateRequired(finished, decision)
        case Fail():
            return Failed(finished, decision)
        case None:
            raise ValueError("a failed attempt needs the retry decision")
