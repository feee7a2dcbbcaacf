from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ErrorCode, GenerationError
from shared.retry import Fail, NeedsPromptUpdate, Retry, RetryPolicy, decide, tier_due_at
from shared.settings import RetrySettings
from shared.status import AssetStatus
from shared.topics import tier_label

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT = RetryPolicy()
PROPERTIES = settings(max_examples=150, deadline=None)

RETRY_SETTINGS_ENV = (
    "MEDIA_GENERATION_MAX_RETRIES",
    "MEDIA_GENERATION_RETRY_BASE_DELAY_S",
    "MEDIA_GENERATION_RETRY_BACKOFF_FACTOR",
    "MEDIA_GENERATION_RETRY_MAX_TIER_S",
)


def final_status(decision: Retry | Fail | NeedsPromptUpdate) -> AssetStatus:
    """The status an asset takes after a decision (what the worker runtime emits)."""
    match decision:
        case Retry():
            return AssetStatus.RETRYING
        case NeedsPromptUpdate():
            return AssetStatus.NEEDS_PROMPT_UPDATE
        case Fail():
            return AssetStatus.FAILED


def run_until_settled(
    error: GenerationError, policy: RetryPolicy
) -> tuple[int, Retry | Fail | NeedsPromptUpdate]:
    """Fail every attempt with `error`; the number of provider calls and the last decision."""
    attempt = 1
    decision = decide(error, attempt, policy, NOW)
    while isinstance(decision, Retry):
        attempt += 1
        decision = decide(error, attempt, policy, NOW)
    return attempt, decision


@pytest.fixture
def clean_retry_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in RETRY_SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- the policy ----------------------------------------------------------------------


def test_the_default_delays_are_5_10_and_20_seconds() -> None:
    assert [DEFAULT.delay_s(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]


def test_the_default_policy_allows_three_retries_after_the_first_attempt() -> None:
    assert DEFAULT.max_retries == 3


def test_the_default_tiers_are_5_10_20_seconds_then_longer_tiers_up_to_300_seconds() -> None:
    assert DEFAULT.tiers_ms == (5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000)


def test_a_scaled_down_base_delay_gives_tiers_named_in_milliseconds() -> None:
    policy = RetryPolicy(base_delay_s=0.2)

    assert [policy.delay_s(n) for n in (1, 2, 3)] == pytest.approx([0.2, 0.4, 0.8])
    assert policy.tiers_ms[:3] == (200, 400, 800)
    assert [tier_label(t) for t in policy.tiers_ms[:3]] == ["200ms", "400ms", "800ms"]
    assert policy.tiers_ms[-1] == 300_000


def test_float_noise_in_a_policy_delay_does_not_create_an_extra_millisecond_tier() -> None:
    policy = RetryPolicy(base_delay_s=0.1, backoff_factor=3)  # 0.1 * 3 == 0.30000000000000004

    assert policy.tiers_ms[:3] == (100, 300, 900)
    assert policy.tier_for(policy.delay_s(2)) == 300


def test_a_delay_longer_than_every_tier_goes_to_the_longest_tier() -> None:
    assert DEFAULT.tier_for(900) == 300_000


def test_a_base_delay_under_a_millisecond_still_gives_tiers_of_at_least_a_millisecond() -> None:
    assert RetryPolicy(base_delay_s=1e-7, max_tier_s=0.004).tiers_ms == (1, 2, 4)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"base_delay_s": 0}, {"backoff_factor": 0.5}, {"max_tier_s": 0}],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- decisions -----------------------------------------------------------------------


def test_a_transient_error_retries_after_5_10_and_20_seconds() -> None:
    error = GenerationError.transient("E6716")

    retries = [decide(error, attempt, DEFAULT, NOW) for attempt in (1, 2, 3)]

    assert retries == [
        Retry(retry_number=1, delay_s=5.0, tier_ms=5_000, due_at=NOW + timedelta(seconds=5)),
        Retry(retry_number=2, delay_s=10.0, tier_ms=10_000, due_at=NOW + timedelta(seconds=10)),
        Retry(retry_number=3, delay_s=20.0, tier_ms=20_000, due_at=NOW + timedelta(seconds=20)),
    ]


def test_a_7_second_rate_limit_hint_goes_to_a_tier_of_at_least_7_seconds() -> None:
    error = GenerationError.rate_limited("resets in ~7s", provider_code="429", retry_after_s=7)

    decision = decide(error, 1, DEFAULT, NOW)

    assert isinstance(decision, Retry)
    assert decision.delay_s >= 7
    assert decision.tier_ms == 10_000
    assert decision.due_at >= NOW + timedelta(seconds=7)


def test_a_hint_shorter_than_the_policy_delay_does_not_shorten_it() -> None:
    error = GenerationError.rate_limited("slow down", retry_after_s=1)

    decision = decide(error, 2, DEFAULT, NOW)

    assert isinstance(decision, Retry)
    assert (decision.delay_s, decision.tier_ms) == (10.0, 10_000)


def test_a_rate_limit_hint_still_counts_as_a_retry() -> None:
    error = GenerationError.rate_limited("resets in ~30s", retry_after_s=30)

    calls, decision = run_until_settled(error, DEFAULT)

    assert calls == 4
    assert decision == Fail(retried_count=3, exhausted=True)


@pytest.mark.parametrize(
    "build", [GenerationError.sensitive_content, GenerationError.invalid_input]
)
def test_content_and_input_errors_never_retry_and_end_needs_prompt_update(
    build: Callable[..., GenerationError],
) -> None:
    calls, decision = run_until_settled(build("rejected"), DEFAULT)

    assert calls == 1
    assert decision == NeedsPromptUpdate(retried_count=0)
    assert final_status(decision) is AssetStatus.NEEDS_PROMPT_UPDATE


@pytest.mark.parametrize("build", [GenerationError.configuration, GenerationError.provider_failure])
def test_configuration_and_provider_failures_end_failed_at_once_without_retries(
    build: Callable[..., GenerationError],
) -> None:
    calls, decision = run_until_settled(build("billing required"), DEFAULT)

    assert calls == 1
    assert decision == Fail(retried_count=0, exhausted=False)
    assert final_status(decision) is AssetStatus.FAILED


def test_a_permanent_error_after_a_transient_one_counts_the_retry_already_made() -> None:
    decision = decide(GenerationError.provider_failure("E1001 out of memory"), 2, DEFAULT, NOW)

    assert decision == Fail(retried_count=1, exhausted=False)


def test_the_fourth_failure_of_a_transient_error_ends_failed_after_three_retries() -> None:
    decision = decide(GenerationError.transient("E6716"), 4, DEFAULT, NOW)

    assert decision == Fail(retried_count=3, exhausted=True)
    assert final_status(decision) is AssetStatus.FAILED


@pytest.mark.parametrize("code", [c for c in ErrorCode if GenerationError(c, "x").retryable])
def test_every_retryable_code_makes_at_most_four_provider_calls(code: ErrorCode) -> None:
    calls, decision = run_until_settled(GenerationError(code, "x"), DEFAULT)

    assert (calls, decision) == (4, Fail(retried_count=3, exhausted=True))


def test_an_unknown_error_retries_up_to_the_limit() -> None:
    error = GenerationError.unknown("something odd")

    assert [type(decide(error, n, DEFAULT, NOW)) for n in (1, 2, 3, 4)] == [
        Retry,
        Retry,
        Retry,
        Fail,
    ]


def test_zero_max_retries_means_one_call_then_failed() -> None:
    calls, decision = run_until_settled(GenerationError.transient("E004"), RetryPolicy(0))

    assert (calls, decision) == (1, Fail(retried_count=0, exhausted=True))


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        decide(GenerationError.transient("x"), 0, DEFAULT, NOW)


def test_a_message_is_due_at_the_time_it_was_written_plus_its_tier() -> None:
    assert tier_due_at(NOW, 5_000) == NOW + timedelta(seconds=5)


# --- settings ------------------------------------------------------------------------


def test_retry_settings_default_to_the_design_values(clean_retry_env: pytest.MonkeyPatch) -> None:
    assert RetrySettings().policy() == RetryPolicy(3, 5.0, 2.0, 300.0)


def test_retry_settings_read_the_media_generation_variables_when_built(
    clean_retry_env: pytest.MonkeyPatch,
) -> None:
    clean_retry_env.setenv("MEDIA_GENERATION_MAX_RETRIES", "5")
    clean_retry_env.setenv("MEDIA_GENERATION_RETRY_BASE_DELAY_S", "0.2")
    clean_retry_env.setenv("MEDIA_GENERATION_RETRY_BACKOFF_FACTOR", "3")
    clean_retry_env.setenv("MEDIA_GENERATION_RETRY_MAX_TIER_S", "60")

    policy = RetrySettings().policy()

    assert (policy.max_retries, policy.base_delay_s, policy.backoff_factor) == (5, 0.2, 3.0)
    assert policy.max_tier_s == 60.0


def test_a_scaled_down_base_delay_from_the_environment_gives_200_400_800_ms_tiers(
    clean_retry_env: pytest.MonkeyPatch,
) -> None:
    clean_retry_env.setenv("MEDIA_GENERATION_RETRY_BASE_DELAY_S", "0.2")

    policy = RetrySettings().policy()

    assert [tier_label(t) for t in policy.tiers_ms[:3]] == ["200ms", "400ms", "800ms"]


def test_zero_max_retries_from_the_environment_gives_one_call_then_failed(
    clean_retry_env: pytest.MonkeyPatch,
) -> None:
    clean_retry_env.setenv("MEDIA_GENERATION_MAX_RETRIES", "0")

    calls, decision = run_until_settled(GenerationError.transient("x"), RetrySettings().policy())

    assert (calls, decision) == (1, Fail(retried_count=0, exhausted=True))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDIA_GENERATION_MAX_RETRIES", "-1"),
        ("MEDIA_GENERATION_RETRY_BASE_DELAY_S", "0"),
        ("MEDIA_GENERATION_RETRY_BACKOFF_FACTOR", "0.5"),
    ],
)
def test_retry_settings_refuse_values_that_make_no_sense(
    clean_retry_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_retry_env.setenv(name, value)

    with pytest.raises(ValueError, match=name):
        RetrySettings()


# --- properties ----------------------------------------------------------------------

policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(0, 8),
    base_delay_s=st.floats(0.001, 30, allow_nan=False),
    backoff_factor=st.floats(1, 4, allow_nan=False),
    max_tier_s=st.floats(0.001, 3_600, allow_nan=False),
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@PROPERTIES
@given(policy=policies, data=st.data())
def test_due_times_in_one_tier_never_decrease_for_messages_written_in_time_order(
    policy: RetryPolicy, data: st.DataObject
) -> None:
    tier = data.draw(st.sampled_from(policy.tiers_ms))
    written = sorted(data.draw(st.lists(instants, min_size=1, max_size=30)))

    due = [tier_due_at(at, tier) for at in written]

    assert due == sorted(due)
    assert all(d - at == timedelta(milliseconds=tier) for d, at in zip(due, written, strict=True))


@PROPERTIES
@given(policy=policies, data=st.data())
def test_a_wanted_delay_gets_the_smallest_tier_that_waits_at_least_as_long(
    policy: RetryPolicy, data: st.DataObject
) -> None:
    wanted_s = data.draw(st.floats(0, policy.tiers_ms[-1] / 1000, allow_nan=False))

    tier = policy.tier_for(wanted_s)

    # Delays are resolved to the microsecond: a tier is never shorter than that.
    assert tier in policy.tiers_ms
    assert tier >= wanted_s * 1000 - 0.001
    assert all(smaller < wanted_s * 1000 for smaller in policy.tiers_ms if smaller < tier)


@PROPERTIES
@given(policy=policies)
def test_every_delay_of_a_policy_has_a_tier_of_its_own(policy: RetryPolicy) -> None:
    for n in range(1, policy.max_retries + 1):
        delay_ms = policy.delay_s(n) * 1000
        assert delay_ms - 0.001 <= policy.tier_for(policy.delay_s(n)) < max(delay_ms, 1) + 1


@PROPERTIES
@given(
    policy=policies,
    attempt=st.integers(1, 12),
    hint=st.none() | st.floats(0, 600, allow_nan=False),
    code=st.sampled_from(list(ErrorCode)),
)
def test_a_retry_is_never_scheduled_before_the_policy_delay_or_the_hint(
    policy: RetryPolicy, attempt: int, hint: float | None, code: ErrorCode
) -> None:
    decision = decide(GenerationError(code, "x", retry_after_s=hint), attempt, policy, NOW)

    if isinstance(decision, Retry):
        assert attempt <= policy.max_retries
        assert decision.delay_s >= max(policy.delay_s(attempt), hint or 0)
        assert decision.due_at == NOW + timedelta(seconds=decision.delay_s)
        assert decision.tier_ms == policy.tier_for(decision.delay_s)
    else:
        assert decision.retried_count == attempt - 1
