"""Test support: a circuit's state change as the provider-health job writes it to the
compacted health topic."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import topics
from shared.envelope import encode, envelop
from shared.events import HealthWindow, ProviderHealthChanged
from shared.kafka import Outgoing

MOSTLY_FAILED = HealthWindow(attempts=10, failures=9, rate_limited=0)
"""A window in which 9 of 10 attempts failed."""


def health_change(
    namespace: str,
    model: str,
    state: str,
    *,
    since: datetime | None = None,
    unavailable_since: datetime | None = None,
    window: HealthWindow = MOSTLY_FAILED,
) -> Outgoing:
    """The record of `replicate/<model>` entering `state` at `since` (now by default). An
    outage begins at `unavailable_since`, or at `since` when not given; a closed circuit has
    none. `window` is what the job counted (the circuit's error rate)."""
    since = since or datetime.now(UTC)
    change = ProviderHealthChanged(
        provider="replicate",
        model=model,
        state=state,
        since=since,
        reason="test",
        window=window,
        unavailable_since=None if state == "closed" else (unavailable_since or since),
    )
    value, headers = encode(envelop(change, "test"))
    return Outgoing(
        topics.provider_health(namespace), f"replicate/{model}".encode(), value, headers
    )
