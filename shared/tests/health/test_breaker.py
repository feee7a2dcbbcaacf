from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.health.breaker import (
    ASSET_SAMPLE,
    Circuit,
    Outcome,
    State,
    Thresholds,
    Window,
    add_asset,
    asset_token,
    observe,
    tick,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TH = Thresholds(min_assets=4, failure_rate=0.5, min_fresh_assets=3, open_for_s=5, probes=2)
EMPTY = Window()
OK, DOWN = Outcome.SUCCEEDED, Outcome.FAILED


def _run(
    circuit: Circuit,
    outcomes: list[tuple[Outcome, str]],
    window: Window = EMPTY,
    th: Thresholds = TH,
) -> Circuit:
    for i, (outcome, asset) in enumerate(outcomes):
        window = window.add(outcome, asset)
        circuit = observe(circuit, outcome, window, T0 + timedelta(seconds=i), th, asset)
    return circuit


def _each(outcome: Outcome, *assets: str) -> list[tuple[Outcome, str]]:
    return [(outcome, asset) for asset in assets]


def test_a_closed_circuit_opens_when_most_recent_assets_failed() -> None:
    circuit = _run(Circuit(), _each(OK, "a") + _each(DOWN, "b", "c", "d"))

    assert circuit.state is State.OPEN
    assert circuit.since == circuit.unavailable_since == T0 + timedelta(seconds=3)
    assert "3 of 4 assets tried in the last 30 s failed" in circuit.reason


def test_a_few_assets_failing_on_every_attempt_keep_it_closed_with_the_defaults() -> None:
    # the redrive scenario: three assets the model fails four times each, one it refuses
    outcomes = _each(OK, "refused") + _each(DOWN, "b", "c", "d") * 4

    circuit = _run(Circuit(), outcomes, th=Thresholds())

    assert circuit.state is State.CLOSED
    assert circuit.fresh_assets == ("b", "c", "d")


def test_one_asset_failing_many_times_among_healthy_ones_keeps_it_closed() -> None:
    outcomes = _each(OK, "a", "b", "c", "d") + _each(DOWN, "bad") * 20
    assert _run(Circuit(), outcomes).state is State.CLOSED


def test_a_few_failing_assets_without_enough_assets_tried_keep_it_closed() -> None:
    assert _run(Circuit(), _each(DOWN, "a", "b", "c")).state is State.CLOSED


def test_a_low_share_of_failing_assets_keeps_it_closed() -> None:
    outcomes = _each(OK, "a", "b", "c", "d", "e", "f") + _each(DOWN, "x", "y", "z")
    assert _run(Circuit(), outcomes).state is State.CLOSED


def test_rate_limits_do_not_open_it_nor_count_as_assets_tried() -> None:
    limited = _each(Outcome.RATE_LIMITED, *(f"a{i}" for i in range(20)))
    window = EMPTY
    for outcome, asset in limited:
        window = window.add(outcome, asset)

    assert _run(Circuit(), limited).state is State.CLOSED
    assert (window.attempts, window.rate_limited, window.tried_assets) == (20, 20, 0)


def test_an_open_circuit_becomes_half_open_only_after_its_wait() -> None:
    opened = Circuit(State.OPEN, T0, T0, ("a", "b", "c"))

    assert tick(opened, T0 + timedelta(seconds=4.9), TH) is opened
    half = tick(opened, T0 + timedelta(seconds=5), TH)
    assert (half.state, half.since, half.unavailable_since) == (
        State.HALF_OPEN,
        T0 + timedelta(seconds=5),
        T0,
    )


def test_late_successes_while_open_change_nothing() -> None:
    opened = Circuit(State.OPEN, T0, T0, ("a", "b", "c"))
    assert observe(opened, OK, Window(10, 9, 0), T0, TH, "a") is opened


def test_enough_successful_probes_close_it_and_forget_the_outage() -> None:
    half = Circuit(State.HALF_OPEN, T0, T0 - timedelta(seconds=5), ("a", "b", "c"))

    one = observe(half, OK, Window(10, 8, 0), T0, TH, "a")
    assert one.state is State.HALF_OPEN
    closed = observe(one, OK, Window(11, 8, 0), T0, TH, "b")
    assert (closed.state, closed.unavailable_since, closed.fresh_assets) == (
        State.CLOSED,
        None,
        (),
    )


def test_a_failed_probe_reopens_it_and_keeps_when_the_outage_began() -> None:
    began = T0 - timedelta(seconds=30)
    half = Circuit(State.HALF_OPEN, T0, began, ("a", "b", "c"), 1)

    reopened = observe(half, DOWN, Window(10, 9, 0), T0, TH, "a")

    assert (reopened.state, reopened.since, reopened.unavailable_since) == (State.OPEN, T0, began)


def test_after_a_recovery_the_outages_failures_still_in_the_window_do_not_reopen_it() -> None:
    closed = Circuit(State.CLOSED, T0, None)
    full_of_outage = EMPTY
    for i in range(20):
        full_of_outage = full_of_outage.add(DOWN if i % 4 else OK, f"old{i}")

    assert _run(closed, _each(DOWN, "a", "b"), full_of_outage).state is State.CLOSED
    assert _run(closed, _each(DOWN, "a", "a", "b", "b"), full_of_outage).state is State.CLOSED
    assert _run(closed, _each(DOWN, "a", "b", "c"), full_of_outage).state is State.OPEN


def test_a_window_keeps_a_bounded_sample_of_the_smallest_tokens() -> None:
    tokens = [asset_token(f"a{i}", 1) for i in range(ASSET_SAMPLE * 3)]
    window = EMPTY
    for token in tokens:
        window = window.add(DOWN, token)

    assert window.tried_assets == ASSET_SAMPLE
    assert sorted(window.assets) == sorted(tokens)[:ASSET_SAMPLE]
    assert (window.attempts, window.failing_share) == (ASSET_SAMPLE * 3, 1.0)


def test_an_asset_token_tells_prompt_versions_apart() -> None:
    assert asset_token("a1", 1) != asset_token("a1", 2)
    assert asset_token("a1", 1) == asset_token("a1", 1)


_tokens = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)
_tried = st.lists(st.tuples(_tokens, st.booleans()), max_size=3 * ASSET_SAMPLE)


@given(_tried)
def test_a_sample_does_not_depend_on_the_order_outcomes_arrive_in(
    tried: list[tuple[str, bool]],
) -> None:
    forward: dict[str, int] = {}
    for asset in tried:
        forward = add_asset(forward, asset)
    backward: dict[str, int] = {}
    for asset in reversed(tried):
        backward = add_asset(backward, asset)

    assert forward == backward
    assert len(forward) == min(ASSET_SAMPLE, len({token for token, _ in tried}))


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=30))
def test_fewer_failing_assets_than_opening_needs_never_open_it_however_often_they_fail(
    healthy: int, failures_each: int
) -> None:
    failing = [f"bad{i}" for i in range(TH.min_fresh_assets - 1)]
    outcomes = _each(OK, *(f"ok{i}" for i in range(healthy)))
    outcomes += _each(DOWN, *failing) * failures_each

    assert _run(Circuit(), outcomes).state is State.CLOSED


@given(st.integers(min_value=TH.min_fresh_assets, max_value=100))
def test_an_outage_that_fails_every_asset_once_opens_it(assets: int) -> None:
    outcomes = _each(DOWN, *(f"a{i}" for i in range(max(assets, TH.min_assets))))
    assert _run(Circuit(), outcomes).state is State.OPEN
