"""Held attempts: a worker follows its models' circuits (decision 0019).

`HoldingGenerator` wraps the provider edge. While a model's circuit is open an attempt is held
before it calls (its turn keeps its slot and its offset, so once every slot holds, the worker
takes nothing more and its partitions fill and pause: the rest waits in Kafka). In half-open
only `probes_per_model` attempts at a time call. An attempt's first failure while the circuit
is not closed is taken for the provider's: the attempt is held and called again, and spends no
retry. A second failure of the same attempt is the asset's own as much as the provider's: it
goes to the retry policy like any failure, whatever the circuit says, and its retry carries
when the asset began waiting. Each hold is announced as `asset.retrying` with `waiting_for:
provider`. An asset that has waited longer than `MEDIA_GENERATION_MAX_OUTAGE_S`, counted from
when it began waiting in this outage (`shared.health.gate.waiting_since`), ends `failed` with
a message that says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.envelope import encode, envelop
from shared.errors import ErrorCode, GenerationError
from shared.events import AssetRetrying, GenerateAsset
from shared.health.board import CircuitBoard, CircuitView
from shared.health.breaker import State
from shared.health.gate import Admission, admit, waiting_since
from shared.health.outcomes import CIRCUIT_OPEN, circuit_key
from shared.kafka import Outgoing, Publisher, publish
from shared.ports import Attempt, Generator
from shared.results import GenerationDebug, GenerationFailed, GenerationResult

log = logging.getLogger("shared.worker")

HoldNotice = Callable[[Attempt, GenerationError, datetime, str], Awaitable[None]]
"""Announce that `attempt` (sent to the model named last) is held after `error` (or, before
any call, a circuit-open error)."""

_OUTAGE_CODES = (ErrorCode.TRANSIENT_PROVIDER_ERROR, ErrorCode.UNKNOWN, ErrorCode.RATE_LIMITED)


class HoldSettings(BaseSettings):
    """How a worker follows provider health."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    follow_provider_health: bool = Field(
        True,
        validation_alias=AliasChoices("LECTUREGEN_WORKER_FOLLOW_PROVIDER_HEALTH"),
        description="hold attempts while their model's circuit is open",
    )
    max_outage_s: float = Field(
        1800.0,
        gt=0,
        validation_alias=AliasChoices("MEDIA_GENERATION_MAX_OUTAGE_S"),
        description="how long an asset may wait for its provider before it ends failed",
    )
    probes_per_model: int = Field(
        1,
        ge=1,
        validation_alias=AliasChoices("LECTUREGEN_WORKER_PROBES_PER_MODEL"),
        description="calls per model and process at once while its circuit is half-open",
    )
    recheck_s: float = Field(
        1.0,
        gt=0,
        validation_alias=AliasChoices("LECTUREGEN_WORKER_HOLD_RECHECK_S"),
        description="how often a held attempt looks again without a change",
    )


@dataclass(frozen=True, slots=True)
class Holding:
    """What a worker needs to hold attempts: the circuits, the settings, and the model a
    command is sent to (its own, or the medium's default)."""

    board: CircuitBoard
    settings: HoldSettings
    model_of: Callable[[GenerateAsset], str] = lambda command: command.model


class HoldingGenerator:
    """A `Generator` that holds attempts while their model's circuit is not closed."""

    def __init__(
        self,
        inner: Generator,
        holding: Holding,
        notify: HoldNotice,
        provider: str = "replicate",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inner = inner
        self._board = holding.board
        self._settings = holding.settings
        self._model_of = holding.model_of
        self._notify = notify
        self._provider = provider
        self._clock = clock
        self._probes: dict[str, int] = {}
        self._failed_under: dict[str, CircuitView] = {}
        """Per circuit, its state when a held call of this process last failed: no attempt
        here calls again until the circuit has changed (one failed probe is enough)."""
        self.held: dict[str, int] = {}
        """Attempts held right now, per circuit key."""
        self._held_tasks: set[asyncio.Task[Any]] = set()

    async def generate(self, attempt: Attempt) -> GenerationResult:
        model = self._model_of(attempt.command)
        key = circuit_key(self._provider, model)
        since: datetime | None = None
        """When the asset began waiting in this outage (set once it finds the circuit open)."""
        forgiven = False
        """Whether this attempt has had its one failure that spends no retry."""
        holding = False
        """Whether it is held right now (counted in `held`), rather than calling."""
        announced = False
        try:
            while True:
                now = self._clock()
                view = self._board.view(key)
                if view == self._failed_under.get(key):
                    view = replace(view, state=State.OPEN)  # hold until the job has judged it
                if view.state is not State.CLOSED and since is None:
                    since = self._waiting_since(attempt, view, now)
                waited = 0.0 if since is None else (now - since).total_seconds()
                admission = admit(
                    view.state,
                    self._probes.get(key, 0),
                    self._settings.probes_per_model,
                    waited,
                    self._settings.max_outage_s,
                )
                if admission is Admission.GIVE_UP:
                    return self._gave_up(attempt, key, waited)
                if admission is Admission.WAIT:
                    if not holding:
                        holding = self._hold(key, +1)
                    if not announced:
                        announced = True
                        await self._notify(attempt, _circuit_open(key), now, model)
                    await self._board.wait_for_change(self._settings.recheck_s)
                    continue
                if holding:
                    holding = self._hold(key, -1)
                result = await self._call(key, attempt, probe=admission is Admission.PROBE)
                if result.ok or result.error.code not in _OUTAGE_CODES:
                    return result
                failed_under = self._board.view(key)
                if failed_under.state is State.CLOSED:
                    return result  # an ordinary failure: the retry policy decides
                self._failed_under[key] = failed_under
                now = self._clock()
                since = since or self._waiting_since(attempt, failed_under, now)
                if forgiven:
                    # the same asset failed again: its own failures spend its retries
                    return replace(result, waiting_since=since)
                # the provider is known to be down: this failure is not the asset's
                forgiven = announced = True
                holding = self._hold(key, +1)
                await self._notify(attempt, result.error, now, model)
                attempt = replace(attempt, resume_prediction_id=result.resume_prediction_id)
                await self._board.wait_for_change(self._settings.recheck_s)
        finally:
            if holding:
                self._hold(key, -1)

    @staticmethod
    def _waiting_since(attempt: Attempt, view: CircuitView, now: datetime) -> datetime:
        """`view` is not closed, so it is a state the health topic published: it has a `since`."""
        outage_began = view.unavailable_since or view.since
        return waiting_since(attempt.waiting_since, attempt.ready_at, outage_began, now)

    @property
    def held_total(self) -> int:
        """Attempts held right now, whatever their circuit."""
        return sum(self.held.values())

    def _hold(self, key: str, change: int) -> bool:
        """Count one attempt more (+1) or less (-1) as held; whether it is held now."""
        self.held[key] = self.held.get(key, 0) + change
        task = asyncio.current_task()
        if task is not None and change > 0:
            self._held_tasks.add(task)
        elif task is not None:
            self._held_tasks.discard(task)
        return change > 0

    def holds(self, task: asyncio.Task[Any]) -> bool:
        """Whether `task` is an attempt held right now (waiting, not calling)."""
        return task in self._held_tasks

    async def _call(self, key: str, attempt: Attempt, *, probe: bool) -> GenerationResult:
        if not probe:
            return await self._inner.generate(attempt)
        self._probes[key] = self._probes.get(key, 0) + 1
        try:
            return await self._inner.generate(attempt)
        finally:
            self._probes[key] -= 1
            await self._board.poke()

    def _gave_up(self, attempt: Attempt, key: str, waited_s: float) -> GenerationResult:
        command = attempt.command
        view = self._board.view(key)
        since = view.unavailable_since or view.since
        error = GenerationError(
            ErrorCode.TRANSIENT_PROVIDER_ERROR,
            f"The provider was unavailable: {key} did not recover within "
            f"{waited_s:.0f} s of waiting (MEDIA_GENERATION_MAX_OUTAGE_S; its circuit has been "
            f"open since {since.isoformat()}). Regenerate the asset once the provider is back.",
            provider=self._provider,
            provider_code=CIRCUIT_OPEN,
            retryable=False,
        )
        log.warning(
            "gave up waiting for the provider",
            extra={"asset_id": command.asset_id, "circuit": key, "waited_s": waited_s},
        )
        model = self._model_of(command)
        debug = GenerationDebug(prompt=command.prompt, model=model, provider=self._provider)
        return GenerationFailed(kind=command.kind, error=error, debug=debug)


def _circuit_open(key: str) -> GenerationError:
    return GenerationError(
        ErrorCode.TRANSIENT_PROVIDER_ERROR,
        f"Waiting for the provider: the circuit of {key} is open.",
        provider=key.partition("/")[0],
        provider_code=CIRCUIT_OPEN,
    )


def register_held_gauge(registry: CollectorRegistry, held: HoldingGenerator, medium: str) -> None:
    """`lecturegen_worker_held_attempts{medium}`: attempts held for their provider."""
    gauge = Gauge(
        "lecturegen_worker_held_attempts",
        "attempts held because their model's circuit is open (decision 0019)",
        ["medium"],
        registry=registry,
    )
    gauge.labels(medium).set_function(lambda: held.held_total)


def waiting_notice(publisher: Publisher, events_topic: str, source: str) -> HoldNotice:
    """A `HoldNotice` that writes `asset.retrying` (`waiting_for: provider`) to the event log."""

    async def notify(attempt: Attempt, error: GenerationError, now: datetime, model: str) -> None:
        command = attempt.command
        payload = AssetRetrying(
            lecture_id=command.lecture_id,
            asset_id=command.asset_id,
            kind=command.kind,
            segment_id=command.segment_id,
            prompt_version=command.prompt_version,
            correlation_id=command.correlation_id,
            attempt=attempt.number,
            retried_count=attempt.number - 1,
            delay_s=0.0,
            next_attempt_at=now,
            error=error.info,
            model=model,
            waiting_for="provider",
        )
        value, headers = encode(
            envelop(payload, source, correlation_id=command.correlation_id, now=now)
        )
        await publish(
            publisher, [Outgoing(events_topic, command.lecture_id.encode(), value, headers)]
        )

    return notify
