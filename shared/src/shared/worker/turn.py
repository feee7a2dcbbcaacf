"""One turn of a worker: a consumed record in, its records out and acknowledged.

Read top-down, `Turns.run` is the whole path of one request: decode (a poison record goes to
the dead-letter topic) → idempotency claim, which also says whether to resume a prediction or
create one (or to re-send saved records, or to skip) → a provider slot (`Slot`) →
`asset.attempt-started` → provider call, whose new prediction is saved before it is waited
for; the slot is given back when the call returns → the outcome
(`shared.worker.outcomes`: its records, its status, its accounting) → save its records with
the new state → send them and await the acks → confirm → count and log. The runtime marks
the offset done only after `run` returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared import headers as h
from shared import topics
from shared.envelope import decode
from shared.errors import GenerationError
from shared.events import GenerateAsset, PayloadError
from shared.kafka.publisher import Publisher, publish
from shared.kafka.records import Record, dump_records, load_records
from shared.media import MediaKind
from shared.ports import Attempt, Generator
from shared.results import GenerationDebug, GenerationFailed, GenerationResult
from shared.retry import RetryPolicy, decide
from shared.worker.metrics import WorkerMetrics
from shared.worker.outcomes import Finished, Outcome, outcome_of
from shared.worker.tiers import due_header
from shared.worker.versions import Claim, Claimed, Verdict, VersionStore
from shared.worker.writer import Writer

log = logging.getLogger("shared.worker")

_SAVE_BEFORE_WAITING_S = 1.0
"""How long a call waits for its new prediction's id to be saved before it goes on anyway."""


class Slot(Protocol):
    """A turn's place among the provider calls a runtime lets run at once."""

    async def take(self) -> None:
        """Wait for a free place; the claim is made already, the call comes next."""
        ...

    def give_back(self) -> None:
        """The turn no longer needs the provider: it only waits for a webhook, or its call
        returned. Safe to call more than once."""
        ...


class _Unlimited:
    async def take(self) -> None:
        return None

    def give_back(self) -> None:
        return None


_UNLIMITED = _Unlimited()


class PoisonRecordError(Exception):
    """The record cannot be a request for this worker."""


@dataclass(frozen=True, slots=True)
class _Request:
    command: GenerateAsset
    attempt: int
    resume_prediction_id: str | None
    ready_at: datetime | None = None
    """A request's write time, a retry's due time."""
    waiting_since: datetime | None = None
    """When the asset began waiting for its provider, as its retry record says."""


class Turns:
    """Runs turns for one medium; shared by every turn of a runtime."""

    def __init__(
        self,
        *,
        kind: MediaKind,
        namespace: str,
        generator: Generator,
        store: VersionStore,
        publisher: Publisher,
        policy: RetryPolicy,
        metrics: WorkerMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._writer = Writer(kind, namespace)
        self._requests_topic = topics.requests(kind, namespace)
        self._generator = generator
        self._store = store
        self._publisher = publisher
        self._policy = policy
        self._metrics = metrics
        self._clock = clock

    async def run(self, record: Record, slot: Slot | None = None) -> None:
        """Handle one request or retry record, all the way to acknowledged output; a record
        the claim lets proceed takes `slot` for its provider call (none: no limit)."""
        try:
            request = self._read(record)
        except PoisonRecordError as exc:
            await publish(self._publisher, self._writer.poison(record, str(exc)))
            self._metrics.dead_letter("poison")
            log.warning(
                "poison record sent to the dead-letter topic",
                extra={"record": record.position, "reason": str(exc)},
            )
            return
        command = request.command
        claim = Claim(
            self._writer.kind,
            command.asset_id,
            command.prompt_version,
            request.attempt,
            record.position,
            request.resume_prediction_id,
        )
        claimed = await self._store.claim(claim)
        verdict = claimed.verdict
        if verdict is Verdict.RESEND and claimed.unsent is not None:
            await self._resend(request, claim, claimed.unsent)
            return
        if verdict is not Verdict.PROCEED:
            self._metrics.skip(verdict.value)
            log.info("request skipped: %s", verdict.value, extra=_fields(request))
            return
        resume = self._resumption(request, claim, claimed)
        slot = slot or _UNLIMITED
        await slot.take()
        await self._attempt(record, request, claim, resume, slot)

    async def hop(self, record: Record, tier_ms: int) -> None:
        """Write a retry that is not due yet through tier `tier_ms` once more."""
        await publish(self._publisher, self._writer.hop(record, tier_ms))
        self._metrics.retry(tier_ms)

    def _read(self, record: Record) -> _Request:
        try:
            envelope = decode(record.value, record.headers)
        except PayloadError as exc:
            raise PoisonRecordError(exc.reason) from exc
        command = envelope.payload
        if not isinstance(command, GenerateAsset):
            raise PoisonRecordError(f"expected {GenerateAsset.TYPE}, got {envelope.type}")
        if command.kind is not self._writer.kind:
            raise PoisonRecordError(
                f"a {command.kind.value} request on the {self._writer.kind.value} worker"
            )
        if record.topic == self._requests_topic:
            return _Request(command, 1, None, record.written_at)
        raw = record.header(h.ATTEMPT)
        try:
            attempt = int(raw or "")
        except ValueError:
            raise PoisonRecordError(
                f"retry record without a valid {h.ATTEMPT} header: {raw!r}"
            ) from None
        if attempt < 2:
            raise PoisonRecordError(f"retry record with attempt {attempt}")
        return _Request(
            command,
            attempt,
            record.header(h.PREDICTION_ID),
            due_header(record) or record.written_at,
            _time_header(record, h.WAITING_SINCE),
        )

    async def _resend(self, request: _Request, claim: Claim, unsent: str) -> None:
        """Send the records a turn of this very record saved before it was cut short."""
        await publish(self._publisher, load_records(unsent))
        await self._store.confirm(claim)
        log.info("re-sent the saved outcome of a redelivered record", extra=_fields(request))

    def _resumption(self, request: _Request, claim: Claim, claimed: Claimed) -> str | None:
        """The prediction to resume (the store's decision), counted and logged."""
        resume = claimed.resume_prediction_id
        if resume is not None:
            redelivered = resume != claim.carried_prediction_id
            self._metrics.resume("redelivery" if redelivered else "retry")
            if redelivered:
                log.info(
                    "resuming the prediction this attempt created before it was cut off",
                    extra={**_fields(request), "prediction_id": resume},
                )
        return resume

    async def _attempt(
        self,
        record: Record,
        request: _Request,
        claim: Claim,
        resume: str | None,
        slot: Slot,
    ) -> None:
        command, number = request.command, request.attempt
        started = self._writer.attempt_started(command, number, self._clock())
        # Handed to the producer before the call, so it precedes the outcome on the log (same
        # key, same partition); its ack is awaited with the outcome's, so neither the call
        # nor the outcome waits for it.
        announced = await self._publisher.enqueue([started])
        saving: list[asyncio.Task[None]] = []
        try:
            attempt = Attempt(
                command,
                number,
                resume,
                on_created=self._remembering(claim, saving),
                on_waiting=slot.give_back,
                ready_at=request.ready_at,
                waiting_since=request.waiting_since,
            )
            result = await self._call(attempt)
            slot.give_back()  # what is left of the turn does not need the provider
            if saving:  # the created prediction's id is saved before the outcome, never after
                await asyncio.gather(*saving)
            outcome = self._outcome(record, request, result)
            records = outcome.records(self._writer)
            # Saved before sending: a crash from here on re-sends these very records on
            # redelivery instead of calling the provider again (decision 0003).
            await self._store.settle(claim, outcome.settlement, dump_records(records))
            await publish(self._publisher, records)
        finally:
            for task in saving:
                task.cancel()  # only when the turn itself was cut short
            await announced
        await self._store.confirm(claim)
        outcome.account(self._metrics, _fields(request))

    async def _call(self, attempt: Attempt) -> GenerationResult:
        self._metrics.call_started()
        began = time.monotonic()
        try:
            return await self._generator.generate(attempt)
        except Exception as exc:  # a generator must not raise; if it does, retry it as UNKNOWN
            log.exception("generator raised", extra={"asset_id": attempt.command.asset_id})
            return GenerationFailed(
                kind=self._writer.kind,
                error=GenerationError.unknown(f"generator raised {exc!r}"),
                debug=GenerationDebug(
                    prompt=attempt.command.prompt, model=attempt.command.model, provider="unknown"
                ),
            )
        finally:
            self._metrics.call_ended(time.monotonic() - began)

    def _remembering(
        self, claim: Claim, saving: list[asyncio.Task[None]]
    ) -> Callable[[str], Awaitable[None]]:
        """`Attempt.on_created` for `claim`: save the new prediction in the asset's row
        before the call waits for it; but if the database is away, let the call go on and
        the save go on trying in the background (the outcome waits for it).

        The save runs in the turn's own task, and only one that outlasts the wait is tried
        again in a task of its own: a task per save was a large part of a busy worker's
        time. (Trying again is safe: a step applied twice changes nothing the second time.)"""

        async def remember(prediction_id: str) -> None:
            try:
                async with asyncio.timeout(_SAVE_BEFORE_WAITING_S):
                    await self._remember(claim, prediction_id)
                return
            except TimeoutError:
                pass
            saving.append(asyncio.create_task(self._remember(claim, prediction_id)))

        return remember

    async def _remember(self, claim: Claim, prediction_id: str) -> None:
        try:
            await self._store.remember(claim, prediction_id)
        except Exception:
            # Saving the id only spares a second create if this process dies during the
            # call; failing the call for it would bring about that very second create.
            log.warning(
                "could not save the created prediction",
                exc_info=True,
                extra={"asset_id": claim.asset_id, "prediction_id": prediction_id},
            )

    def _outcome(self, record: Record, request: _Request, result: GenerationResult) -> Outcome:
        """What the attempt came to: for a failure, what the retry policy decides now."""
        now = self._clock()
        number = request.attempt
        decision = None if result.ok else decide(result.error, number, self._policy, now)
        return outcome_of(Finished(record, request.command, number, result, now), decision)


def _time_header(record: Record, name: str) -> datetime | None:
    """A header's ISO time with its zone, or None when it is missing or unreadable."""
    raw = record.header(name)
    try:
        at = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return at if at is not None and at.tzinfo is not None else None


def _fields(request: _Request) -> dict[str, object]:
    command = request.command
    return {
        "asset_id": command.asset_id,
        "lecture_id": command.lecture_id,
        "correlation_id": command.correlation_id,
        "prompt_version": command.prompt_version,
        "attempt": request.attempt,
    }
