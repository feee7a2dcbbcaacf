import pytest

from shared.health.breaker import State
from shared.health.gate import Admission, admit


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
