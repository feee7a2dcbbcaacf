"""What a worker writes for each turn of a request: a pure function of what happened.

Every function here returns the records to produce (`Outgoing`) and imports no Kafka client;
the runtime sends them, waits for the broker's acknowledgement, then commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared import headers as h
from shared import topics
from shared.envelope import Headers, encode, envelop
from shared.errors import GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetRetrying,
    GenerateAsset,
    MediaRef,
    Payload,
)
from shared.media import MediaKind
from shared.results import GenerationResult
from shared.retry import Decision, Fail, NeedsPromptUpdate, Retry
from shared.worker.records import Inbound, Outgoing


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What every plan needs to know about the worker writing it."""

    kind: MediaKind
    namespace: str = ""

    @property
    def source(self) -> str:
        """The CloudEvents `source` of the worker's events."""
        return f"lecturegen/{self.kind.value}-worker"

    @property
    def events_topic(self) -> str:
        return topics.events(self.namespace)

    @property
    def dead_letter_topic(self) -> str:
        return topics.dead_letter(self.kind, self.namespace)


def attempt_started(
    ctx: PlanContext, command: GenerateAsset, attempt: int, now: datetime
) -> Outgoing:
    """`asset.attempt-started`, written before the provider is called."""
    payload = AssetAttemptStarted(**_asset_fields(command), attempt=attempt, started_at=now)
    return _event(ctx, command, payload, now)


def outcome(
    ctx: PlanContext,
    record: Inbound,
    command: GenerateAsset,
    attempt: int,
    result: GenerationResult,
    decision: Decision | None,
    now: datetime,
) -> list[Outgoing]:
    """The records for the result of attempt number `attempt`; `decision` is what
    `shared.retry.decide` said about a failure (None for a success)."""
    if result.ok:
        generated = AssetGenerated(
            **_asset_fields(command),
            media=MediaRef(
                blob_key=result.media.blob_key,
                content_type=result.media.content_type,
                size_bytes=result.media.size_bytes,
                duration_s=result.media.duration_s,
            ),
            prompt=command.prompt,
            model=result.debug.model or command.model,
            provider=result.debug.provider,
            prediction_id=result.debug.prediction_id,
            attempts=attempt,
            retried_count=attempt - 1,
        )
        return [_event(ctx, command, generated, now)]
    if decision is None:
        raise ValueError("a failed attempt needs the retry decision")
    error = result.error
    model = result.debug.model or command.model
    if isinstance(decision, Retry):
        retrying = AssetRetrying(
            **_asset_fields(command),
            attempt=attempt,
            retried_count=decision.retry_number,
            delay_s=decision.delay_s,
            next_attempt_at=decision.due_at,
            error=error.info,
            model=model,
        )
        return [
            _event(ctx, command, retrying, now),
            _to_tier(
                ctx, record, command, attempt + 1, decision, error, result.resume_prediction_id
            ),
        ]
    if isinstance(decision, NeedsPromptUpdate):
        needs = AssetNeedsPromptUpdate(
            **_asset_fields(command),
            error=error.info,
            prompt=command.prompt,
            model=model,
            retried_count=decision.retried_count,
            attempts=attempt,
        )
        return [_event(ctx, command, needs, now)]
    failed = AssetFailed(
        **_asset_fields(command),
        error=error.info,
        prompt=command.prompt,
        model=model,
        retried_count=decision.retried_count,
        attempts=attempt,
    )
    return [_event(ctx, command, failed, now), _dead_letter_failed(ctx, record, decision, error)]


def poison(ctx: PlanContext, record: Inbound, reason: str) -> list[Outgoing]:
    """A record that cannot be a request for this worker: a copy to the dead-letter topic."""
    return [
        Outgoing(
            topic=ctx.dead_letter_topic,
            key=record.key or b"",
            value=record.value or b"",
            headers=_replace(
                record.headers,
                {
                    h.DLT_REASON: "poison",
                    h.ERROR_MESSAGE: reason[:2000],
                    **_provenance(record),
                },
            ),
        )
    ]


def hop(ctx: PlanContext, record: Inbound, tier_ms: int) -> list[Outgoing]:
    """A retry whose due time lies beyond its tier: the same record, once more through `tier_ms`
    (its `DUE_AT`, attempt and provenance stay as they are)."""
    return [
        Outgoing(
            topic=topics.retry_tier(ctx.kind, tier_ms, ctx.namespace),
            key=record.key or b"",
            value=record.value or b"",
            headers=_replace(record.headers, {h.TIER_MS: str(tier_ms)}),
        )
    ]


def _asset_fields(command: GenerateAsset) -> dict[str, object]:
    return {
        "lecture_id": command.lecture_id,
        "asset_id": command.asset_id,
        "kind": command.kind,
        "segment_id": command.segment_id,
        "prompt_version": command.prompt_version,
        "correlation_id": command.correlation_id,
    }


def _event(ctx: PlanContext, command: GenerateAsset, payload: Payload, now: datetime) -> Outgoing:
    value, hdrs = encode(
        envelop(payload, ctx.source, correlation_id=command.correlation_id, now=now)
    )
    return Outgoing(ctx.events_topic, command.lecture_id.encode(), value, hdrs)


def _to_tier(
    ctx: PlanContext,
    record: Inbound,
    command: GenerateAsset,
    next_attempt: int,
    decision: Retry,
    error: GenerationError,
    prediction_id: str | None,
) -> Outgoing:
    updates = {
        h.ATTEMPT: str(next_attempt),
        h.DUE_AT: decision.due_at.isoformat(),
        h.TIER_MS: str(decision.tier_ms),
        h.ERROR_CODE: error.code.value,
        h.ERROR_MESSAGE: error.message[:2000],
        h.CORRELATION_ID: command.correlation_id,
        h.PREDICTION_ID: prediction_id,
        **_provenance(record),
    }
    return Outgoing(
        topic=topics.retry_tier(ctx.kind, decision.tier_ms, ctx.namespace),
        key=command.asset_id.encode(),
        value=record.value or b"",
        headers=_replace(record.headers, updates),
    )


def _dead_letter_failed(
    ctx: PlanContext, record: Inbound, decision: Fail, error: GenerationError
) -> Outgoing:
    return Outgoing(
        topic=ctx.dead_letter_topic,
        key=record.key or b"",
        value=record.value or b"",
        headers=_replace(
            record.headers,
            {
                h.DLT_REASON: "exhausted" if decision.exhausted else "failed",
                h.ERROR_CODE: error.code.value,
                h.ERROR_MESSAGE: error.message[:2000],
                **_provenance(record),
            },
        ),
    )


def _provenance(record: Inbound) -> dict[str, str | None]:
    topic, partition, offset = record.origin()
    return {
        h.ORIGINAL_TOPIC: topic,
        h.ORIGINAL_PARTITION: str(partition),
        h.ORIGINAL_OFFSET: str(offset),
    }


def _replace(base: Headers, updates: dict[str, str | None]) -> Headers:
    """`base` without the headers named in `updates`, then those that have a value."""
    kept = [(name, value) for name, value in base if name not in updates]
    return kept + [(name, value.encode()) for name, value in updates.items() if value is not None]
