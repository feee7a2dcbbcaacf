"""Whether an attempt may call the provider now, given its model's circuit: pure."""

from __future__ import annotations

import enum

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
