from datetime import UTC, datetime, timedelta

from shared.health.breaker import Circuit, Outcome, State, Thresholds, Window, observe, tick

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TH = Thresholds(min_attempts=4, failure_rate=0.5, min_fresh_failures=3, open_for_s=5, probes=2)


EMPTY = Window()


def _run(circuit: Circuit, outcomes: list[Outcome], window: Window = EMPTY) -> Circuit:
    for i, outcome in enumerate(outcomes):
        window = window.add(outcome)
        circuit = observe(circuit, outcome, window, T0 + timedelta(seconds=i), TH)
    return circuit


def test_a_closed_circuit_opens_when_enough_recent_attempts_mostly_failed() -> None:
    circuit = _run(Circuit(), [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.FAILED, Outcome.FAILED])

    assert circuit.state is State.OPEN
    assert circuit.since == circuit.unavailable_since == T0 + timedelta(seconds=3)
    assert "3 of 4 attempts failed" in circuit.reason


def test_a_few_failures_without_enough_attempts_keep_it_closed() -> None:
    assert _run(Circuit(), [Outcome.FAILED] * 3).state is State.CLOSED


def test_a_low_error_rate_keeps_it_closed() -> None:
    outcomes = [Outcome.SUCCEEDED, Outcome.SUCCEEDED, Outcome.SUCCEEDED] * 2 + [Outcome.FAILED] * 3
    assert _run(Circuit(), outcomes).state is State.CLOSED


def test_rate_limits_do_not_open_it() -> None:
    assert _run(Circuit(), [Outcome.RATE_LIMITED] * 20).state is State.CLOSED


def test_an_open_circuit_becomes_half_open_only_after_its_wait() -> None:
    opened = Circuit(State.OPEN, T0, T0, 3)

    assert tick(opened, T0 + timedelta(seconds=4.9), TH) is opened
    half = tick(opened, T0 + timedelta(seconds=5), TH)
    assert (half.state, half.since, half.unavailable_since) == (
        State.HALF_OPEN,
        T0 + timedelta(seconds=5),
        T0,
    )


def test_late_successes_while_open_change_nothing() -> None:
    opened = Circuit(State.OPEN, T0, T0, 3)
    assert observe(opened, Outcome.SUCCEEDED, Window(10, 9, 0), T0, TH) is opened


def test_enough_successful_probes_close_it_and_forget_the_outage() -> None:
    half = Circuit(State.HALF_OPEN, T0, T0 - timedelta(seconds=5), 3)

    one = observe(half, Outcome.SUCCEEDED, Window(10, 8, 0), T0, TH)
    assert one.state is State.HALF_OPEN
    closed = observe(one, Outcome.SUCCEEDED, Window(11, 8, 0), T0, TH)
    assert (closed.state, closed.unavailable_since, closed.fresh_failures) == (
        State.CLOSED,
        None,
        0,
    )


def test_a_failed_probe_reopens_it_and_keeps_when_the_outage_began() -> None:
    began = T0 - timedelta(seconds=30)
    half = Circuit(State.HALF_OPEN, T0, began, 3, 1)

    reopened = observe(half, Outcome.FAILED, Window(10, 9, 0), T0, TH)

    assert (reopened.state, reopened.since, reopened.unavailable_since) == (State.OPEN, T0, began)


def test_after_a_recovery_the_outages_failures_still_in_the_window_do_not_reopen_it() -> None:
    closed = Circuit(State.CLOSED, T0, None, 0)
    full_of_outage = Window(attempts=20, failures=15)

    assert _run(closed, [Outcome.FAILED, Outcome.FAILED], full_of_outage).state is State.CLOSED
    assert _run(closed, [Outcome.FAILED] * 3, full_of_outage).state is State.OPEN
