from datetime import UTC, datetime, timedelta

import pytest

from shared.health.breaker import State
from shared.health.gate import Admission, admit, waiting_since

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=10)


def test_a_closed_circuit_lets_every_attempt_call_however_long_it_waited() -> None:
    assert admit(State.CLOSED, 5, 1, waited_s=10_000, max_wait_s=60) is Admission.CALL


def test_an_open_circuit_holds_attempts() -> None:
    assert admit(State.OPEN, 0, 1, waited_s=0, max_wait_s=60) is Admission.WAIT


@pytest.mark.parametrize(("running", "admission"), [(0, Admission.PROBE), (1, Admission.WAIT)])
def test_half_open_lets_only_the_allowed_probes_through(running: int, admission: Admission) -> None:
    assert admit(State.HALF_OPEN, running, 1, waited_s=0, max_wait_s=60) is admission


@pytest.mark.parametrize("state", [State.OPEN, State.HALF_OPEN])
def test_nothing_waits_longer_than_allowed(state: State) -> None:
    assert admit(state, 0, 1, waited_s=60, max_wait_s=60) is Admission.GIVE_UP


def test_an_asset_due_before_the_outage_began_waits_from_the_outages_start() -> None:
    assert waiting_since(None, T0 - timedelta(minutes=5), T0, NOW) == T0


def test_an_asset_due_during_the_outage_waits_from_when_it_was_due() -> None:
    due = T0 + timedelta(minutes=3)
    assert waiting_since(None, due, T0, NOW) == due


def test_a_wait_carried_from_an_earlier_attempt_of_this_outage_goes_on() -> None:
    carried = T0 + timedelta(minutes=1)
    assert waiting_since(carried, T0 + timedelta(minutes=8), T0, NOW) == carried


def test_a_wait_carried_from_an_earlier_outage_is_forgotten() -> None:
    due = T0 + timedelta(minutes=8)
    assert waiting_since(T0 - timedelta(hours=1), due, T0, NOW) == due


def test_without_anything_known_the_wait_begins_now() -> None:
    assert waiting_since(None, None, None, NOW) == NOW
    assert waiting_since(None, NOW + timedelta(seconds=1), None, NOW) == NOW  # a skewed clock
