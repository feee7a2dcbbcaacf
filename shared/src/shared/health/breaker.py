"""The circuit breaker of one (provider, model), as pure decisions (decision 0019).

`observe` takes one attempt's outcome with the window's counts after it; `tick` moves an open
circuit to half-open once it has been open long enough. Both return the circuit unchanged
when nothing happens, so a caller publishes only when the result differs from its input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Outcome(enum.StrEnum):
    """What one provider call said about the provider (not about the asset)."""

    SUCCEEDED = "succeeded"
    """The provider answered: a result, or a refusal of the input."""
    FAILED = "failed"
    """A transient or unknown provider error: the provider may be down."""
    RATE_LIMITED = "rate_limited"
    """A 429: the account's budget, not the provider's health."""


@dataclass(frozen=True, slots=True)
class Window:
    """Counts over the last `Thresholds.window_s` seconds."""

    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0

    @property
    def error_rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0

    def add(self, outcome: Outcome) -> Window:
        return Window(
            self.attempts + 1,
            self.failures + (outcome is Outcome.FAILED),
            self.rate_limited + (outcome is Outcome.RATE_LIMITED),
        )


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a circuit opens and how it recovers (the reasons are in decision 0019)."""

    window_s: float = 30.0
    """How far back the counts reach."""
    step_s: float = 5.0
    """How often a new window starts (the hopping table's step)."""
    min_attempts: int = 8
    """Attempts the window must hold before its error rate counts: two failures in two calls
    say nothing about a provider."""
    failure_rate: float = 0.5
    """The error rate at which the circuit opens."""
    min_fresh_failures: int = 4
    """Failures since the circuit last closed that opening also needs: the window still holds
    the outage's failures just after a recovery, and they must not reopen it."""
    open_for_s: float = 5.0
    """How long an open circuit lets nothing through before it tries probes."""
    probes: int = 2
    """Successes in half-open that close the circuit; one failure there reopens it."""


@dataclass(frozen=True, slots=True)
class Circuit:
    """The state of one (provider, model)."""

    state: State = State.CLOSED
    since: datetime | None = None
    """When it entered `state`."""
    unavailable_since: datetime | None = None
    """When it first opened in this outage (kept through open ↔ half-open, cleared on close):
    how long waiting assets have waited for the provider."""
    fresh_failures: int = 0
    """Failures since it last closed."""
    probes_ok: int = 0
    """Successful probes in this half-open state."""
    reason: str = ""


def observe(
    circuit: Circuit, outcome: Outcome, window: Window, now: datetime, th: Thresholds
) -> Circuit:
    """The circuit after one outcome; `window` already counts it."""
    failed = outcome is Outcome.FAILED
    if circuit.state is State.CLOSED:
        fresh = circuit.fresh_failures + failed
        if (
            failed
            and window.attempts >= th.min_attempts
            and window.error_rate >= th.failure_rate
            and fresh >= th.min_fresh_failures
        ):
            reason = (
                f"{window.failures} of {window.attempts} attempts failed "
                f"in the last {th.window_s:g} s"
            )
            return Circuit(State.OPEN, now, now, fresh, 0, reason)
        return replace(circuit, fresh_failures=fresh) if failed else circuit
    if circuit.state is State.HALF_OPEN:
        if failed:
            return replace(
                circuit, state=State.OPEN, since=now, probes_ok=0, reason="a probe failed"
            )
        if outcome is Outcome.SUCCEEDED:
            ok = circuit.probes_ok + 1
            if ok >= th.probes:
                return Circuit(State.CLOSED, now, None, 0, 0, f"{ok} probes succeeded")
            return replace(circuit, probes_ok=ok)
    return circuit  # open: late results of calls made before it opened change nothing


def tick(circuit: Circuit, now: datetime, th: Thresholds) -> Circuit:
    """An open circuit that has waited `open_for_s` lets probes through."""
    if (
        circuit.state is State.OPEN
        and circuit.since is not None
        and now - circuit.since >= timedelta(seconds=th.open_for_s)
    ):
        return replace(
            circuit, state=State.HALF_OPEN, since=now, probes_ok=0, reason="trying probes"
        )
    return circuit
