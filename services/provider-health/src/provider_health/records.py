"""How the job's records and table values look: circuits as JSON-able dicts, and the
`lecturegen.provider.health-changed.v1` CloudEvent of a state change."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.envelope import encode, envelop
from shared.events import HealthWindow, ProviderHealthChanged
from shared.health.breaker import Circuit, Outcome, State, Window
from shared.health.outcomes import Observation, split_key
from shared.kafka import Headers

SOURCE = "lecturegen/provider-health"
TICK = b"tick"
"""The value of a tick record on the re-keyed topic: time passed, no outcome."""


def dump_observation(seen: Observation) -> bytes:
    """The value of an outcome on the re-keyed topic: `<outcome> <asset token>`."""
    return f"{seen.outcome.value} {seen.asset}".encode()


def load_observation(value: bytes) -> tuple[Outcome, str]:
    """The outcome and asset token of a re-keyed record (a bare outcome, as written before
    assets were counted, has no asset)."""
    outcome, _, asset = value.decode().partition(" ")
    return Outcome(outcome), asset


def dump_circuit(circuit: Circuit) -> dict[str, Any]:
    return {
        "state": circuit.state.value,
        "since": _iso(circuit.since),
        "unavailable_since": _iso(circuit.unavailable_since),
        "fresh_assets": list(circuit.fresh_assets),
        "probes_ok": circuit.probes_ok,
        "reason": circuit.reason,
    }


def load_circuit(data: dict[str, Any] | None) -> Circuit:
    if not data:
        return Circuit()
    return Circuit(
        State(data["state"]),
        _time(data.get("since")),
        _time(data.get("unavailable_since")),
        tuple(str(token) for token in data.get("fresh_assets", ())),
        int(data.get("probes_ok", 0)),
        str(data.get("reason", "")),
    )


def health_changed(
    key: str, circuit: Circuit, window: Window, now: datetime
) -> tuple[bytes, Headers]:
    """The CloudEvent (value, headers) saying `key`'s circuit is now `circuit`."""
    provider, model = split_key(key)
    payload = ProviderHealthChanged(
        provider=provider,
        model=model,
        state=circuit.state.value,
        since=circuit.since or now,
        reason=circuit.reason,
        window=HealthWindow(
            attempts=window.attempts, failures=window.failures, rate_limited=window.rate_limited
        ),
        unavailable_since=circuit.unavailable_since,
    )
    return encode(replace(envelop(payload, SOURCE, now=now), subject=f"providers/{key}"))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
