from replicate_sim.directives import Directives, RateLimit, ReadFaults
from replicate_sim.faults import (
    INTERRUPTED,
    OUT_OF_MEMORY,
    SENSITIVE,
    TIMEOUT_STARTING,
    UNAVAILABLE,
    Ending,
    Hang,
    OutputStyle,
    Run,
    plan_create,
)
from replicate_sim.problems import Problem

LATENCY = 0.1


def run_of(directives: Directives, attempt: int = 1) -> Run:
    plan = plan_create(directives, attempt, LATENCY)
    assert isinstance(plan, Run)
    return plan


def test_an_input_without_directives_succeeds_after_the_default_latency() -> None:
    assert plan_create(Directives(), 1, LATENCY) == Run(LATENCY)


def test_transient_failures_rotate_over_the_four_kinds_then_succeed() -> None:
    directives = Directives(transient=5)
    plans = [plan_create(directives, attempt, LATENCY) for attempt in range(1, 7)]
    errors = [plan.error if isinstance(plan, Run) else plan for plan in plans[:5]]
    assert errors[:3] == [TIMEOUT_STARTING, INTERRUPTED, UNAVAILABLE]
    assert isinstance(errors[3], Problem)
    assert errors[3].status == 503
    assert errors[4] == TIMEOUT_STARTING
    assert plans[5] == Run(LATENCY)


def test_startup_failures_never_reach_processing() -> None:
    first, second = (plan_create(Directives(transient=2), n, LATENCY) for n in (1, 2))
    assert isinstance(first, Run)
    assert not first.starts
    assert isinstance(second, Run)
    assert second.starts


def test_rate_limit_throttles_the_first_creates_with_a_hint() -> None:
    directives = Directives(rate_limit=RateLimit(times=2, after_s=5))
    first = plan_create(directives, 1, LATENCY)
    assert isinstance(first, Problem)
    assert first.status == 429
    assert first.retry_after_s == 5
    assert first.detail == "Request was throttled. Your rate limit resets in ~5s."
    assert isinstance(plan_create(directives, 2, LATENCY), Problem)
    assert plan_create(directives, 3, LATENCY) == Run(LATENCY)


def test_hang_holds_the_first_creates_only() -> None:
    directives = Directives(hang=2)
    assert plan_create(directives, 2, LATENCY) == Hang()
    assert plan_create(directives, 3, LATENCY) == Run(LATENCY)


def test_counted_faults_take_turns_hang_then_rate_limit_then_transient() -> None:
    directives = Directives(hang=1, rate_limit=RateLimit(1, 3), transient=1)
    plans = [plan_create(directives, attempt, LATENCY) for attempt in range(1, 5)]
    assert plans[0] == Hang()
    assert isinstance(plans[1], Problem)
    assert plans[1].status == 429
    assert isinstance(plans[2], Run)
    assert plans[2].error == TIMEOUT_STARTING
    assert plans[3] == Run(LATENCY)


def test_invalid_input_is_rejected_on_every_create() -> None:
    directives = Directives(invalid_input_field="input.prompt")
    for attempt in (1, 2, 10):
        plan = plan_create(directives, attempt, LATENCY)
        assert isinstance(plan, Problem)
        assert plan.status == 422
        assert plan.extra["invalid_fields"][0]["field"] == "input.prompt"


def test_sensitive_and_model_errors_fail_every_time() -> None:
    for attempt in (1, 5):
        assert run_of(Directives(sensitive=True), attempt).error == SENSITIVE
        model_error = run_of(Directives(model_error=True), attempt)
        assert model_error.error == OUT_OF_MEMORY
        assert "CUDA out of memory" in model_error.logs


def test_a_steady_fault_applies_once_the_transient_failures_are_used_up() -> None:
    assert run_of(Directives(transient=1, sensitive=True), 2).error == SENSITIVE


def test_latency_directive_sets_how_long_the_prediction_takes() -> None:
    assert plan_create(Directives(latency_s=2.5), 1, LATENCY) == Run(2.5)


def test_output_directives_shape_a_successful_run() -> None:
    assert run_of(Directives(empty_output=True)).output is OutputStyle.EMPTY
    assert run_of(Directives(foreign_output=True)).output is OutputStyle.FOREIGN


def test_aborted_ends_before_it_starts() -> None:
    plan = plan_create(Directives(aborted=True), 1, LATENCY)
    assert plan == Run(LATENCY, Ending.ABORTED, starts=False)


def test_expiring_outputs_take_their_turn_after_the_transient_failures() -> None:
    directives = Directives(transient=1, expire_output=2)
    assert run_of(directives, 1).ending is Ending.FAILED
    assert [run_of(directives, n).expire_output for n in (2, 3, 4)] == [True, True, False]


def test_credit_and_permission_refuse_every_create() -> None:
    for directives, status in (
        (Directives(insufficient_credit=True), 402),
        (Directives(forbidden=True), 403),
    ):
        plans = [plan_create(directives, attempt, LATENCY) for attempt in (1, 2, 5)]
        assert all(isinstance(p, Problem) and p.status == status for p in plans)


def test_read_faults_travel_with_the_plan_of_every_prediction() -> None:
    reads = ReadFaults(errors=1, status=503, drops=2)
    assert run_of(Directives(reads=reads), 3).reads == reads
