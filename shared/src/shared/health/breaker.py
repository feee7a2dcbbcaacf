"""The circuit breaker of one (provider, model), as pure decisions (decision 0019).

It judges by distinct assets, not attempts: an outage fails many assets once, an asset the
model chokes on fails one asset many times. `observe` takes one attempt's outcome and its
asset with the window after it; `tick` moves an open circuit to half-open once it has been
open long enough. Both return the circuit unchanged when nothing happens, so a caller
publishes only when the result differs from its input.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


ASSET_SAMPLE = 64
"""The most assets a window keeps: the ones with the smallest tokens (a bottom-k sample), so
that past this many distinct assets its failing share is that of a uniform sample."""

AssetSample = Mapping[str, int]
"""A window's assets: token (`asset_token`) → 1 if it failed in the window, else 0."""


def asset_token(asset_id: str, prompt_version: int) -> str:
    """A short uniform hash of an asset version: what windows and circuits keep of it."""
    digest = hashlib.blake2b(f"{asset_id}#{prompt_version}".encode(), digest_size=6)
    return digest.hexdigest()


def add_asset(sample: AssetSample, asset: tuple[str, bool]) -> dict[str, int]:
    """`sample` with `asset` (token, failed) tried once more, kept to `ASSET_SAMPLE`."""
    token, failed = asset
    merged = dict(sample)
    merged[token] = max(merged.get(token, 0), int(failed))
    if len(merged) > ASSET_SAMPLE:
        for dropped in sorted(merged)[ASSET_SAMPLE:]:
            del merged[dropped]
    return merged


@dataclass(frozen=True, slots=True)
class Window:
    """What the last `Thresholds.window_s` seconds saw: attempts counted (shown on the health
    topic) and the distinct assets tried (what the breaker judges by)."""

    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0
    assets: AssetSample = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        """Failed share of the attempts."""
        return self.failures / self.attempts if self.attempts else 0.0

    @property
    def tried_assets(self) -> int:
        """Distinct assets that called the provider (at most `ASSET_SAMPLE`)."""
        return len(self.assets)

    @property
    def failing_assets(self) -> int:
        """Of those, the ones that failed at least once."""
        return sum(self.assets.values())

    @property
    def failing_share(self) -> float:
        return self.failing_assets / self.tried_assets if self.assets else 0.0

    def add(self, outcome: Outcome, asset: str) -> Window:
        """The window after one more outcome of `asset` (a token)."""
        assets = self.assets
        if outcome is not Outcome.RATE_LIMITED:  # a 429 says nothing of the provider
            assets = add_asset(assets, (asset, outcome is Outcome.FAILED))
        return Window(
            self.attempts + 1,
            self.failures + (outcome is Outcome.FAILED),
            self.rate_limited + (outcome is Outcome.RATE_LIMITED),
            assets,
        )


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a circuit opens and how it recovers (the reasons are in decision 0019)."""

    window_s: float = 30.0
    """How far back the counts reach."""
    step_s: float = 5.0
    """How often a new window starts (the hopping table's step)."""
    min_assets: int = 8
    """Distinct assets the window must have tried before their failing share counts: two
    failing assets out of two say nothing about a provider. At most `ASSET_SAMPLE`."""
    failure_rate: float = 0.5
    """The share of the window's assets that failed at which the circuit opens."""
    min_fresh_assets: int = 4
    """Distinct assets failed since the circuit last closed that opening also needs: the
    window still holds the outage's failures just after a recovery, and they must not reopen
    it; nor may a few assets that fail on every attempt open it."""
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
    fresh_assets: tuple[str, ...] = ()
    """Tokens of distinct assets that failed since it last closed (kept up to the number
    opening needs)."""
    probes_ok: int = 0
    """Successful probes in this half-open state."""
    reason: str = ""


def observe(
    circuit: Circuit,
    outcome: Outcome,
    window: Window,
    now: datetime,
    th: Thresholds,
    asset: str = "",
) -> Circuit:
    """The circuit after one outcome of `asset` (a token); `window` already counts it."""
    failed = outcome is Outcome.FAILED
    if circuit.state is State.CLOSED:
        if not failed:
            return circuit
        fresh = circuit.fresh_assets
        if asset not in fresh and len(fresh) < th.min_fresh_assets:
            fresh = (*fresh, asset)
        if (
            window.tried_assets >= th.min_assets
            and window.failing_share >= th.failure_rate
            and len(fresh) >= th.min_fresh_assets
        ):
            return Circuit(State.OPEN, now, now, fresh, 0, _opened_because(window, th))
        return replace(circuit, fresh_assets=fresh)
    if circuit.state is State.HALF_OPEN:
        if failed:
            return replace(
                circuit, state=State.OPEN, since=now, probes_ok=0, reason="a probe failed"
            )
        if outcome is Outcome.SUCCEEDED:
            ok = circuit.probes_ok + 1
            if ok >= th.probes:
                return Circuit(State.CLOSED, now, None, (), 0, f"{ok} probes succeeded")
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


def _opened_because(window: Window, th: Thresholds) -> str:
    sampled = " sampled" if window.tried_assets >= ASSET_SAMPLE else ""
    return (
        f"{window.failing_assets} of {window.tried_assets}{sampled} assets tried in the last "
        f"{th.window_s:g} s failed ({window.failures} of {window.attempts} attempts)"
    )
