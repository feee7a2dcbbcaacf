"""Whether an attempt may call the provider now, given its model's circuit, and since when
an asset has waited for it: pure."""

from __future__ import annotations

import enum
from datetime import datetime

from shared.health.breaker import State


class Admission(enum.Enum):
    CALL = "call"
    """The circuit is closed: call."""
    PROBE = "probe"
    """The circuit is half-open and a probe slot is free: call, as a probe."""
    WAIT = "wait"
    """Hold the attempt until the circuit changes."""
    GIVE_UP = "give_up"
    """It has waited longer than it may: end the asset `failed`."""


def admit(
    state: State, probes_running: int, probes_allowed: int, waited_s: float, max_wait_s: float
) -> Admission:
    if state is State.CLOSED:
        return Admission.CALL
    if waited_s >= max_wait_s:
        return Admission.GIVE_UP
    if state is State.HALF_OPEN and probes_running < probes_allowed:
        return Admission.PROBE
    return Admission.WAIT


def waiting_since(
    carried: datetime | None,
    ready_at: datetime | None,
    outage_began: datetime | None,
    now: datetime,
) -> datetime:
    """When an asset that waits for its provider now began to wait in this outage.

    What its retry record carries, when that wait is of this outage (it began once the outage
    had); else when its record became due, or when the outage began if that was later.
    Derived from the record and the health topic alone, it is the same in a process started
    after a crash as in the one that held the asset first.
    """
    if carried is not None and (outage_began is None or carried >= outage_began):
        return min(carried, now)
    known = [at for at in (ready_at, outage_began) if at is not None]
    return min(max(known), now) if known else now
