"""The account budget: token buckets with the clock passed in, the shares of the account's
limits, and how a 429 slows a process down."""

from __future__ import annotations

import asyncio

import pytest

from shared.providers.budget import (
    BURST_S,
    OWN_RATE_WINDOW_S,
    RECOVER_S,
    AccountBudget,
    BudgetLimits,
    Call,
    TokenBucket,
    call_of,
)
from shared.settings import ProviderSettings


class FakeTime:
    """A clock and a sleep that skips time instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_default_shares_split_replicates_limits_over_four_processes() -> None:
    limits = BudgetLimits.from_settings(ProviderSettings())
    assert limits == BudgetLimits(creates_per_min=150, reads_per_min=750)


def test_shares_and_explicit_limits_are_both_honoured() -> None:
    shared = ProviderSettings(account_shares=10, creates_per_min=30)
    assert BudgetLimits.from_settings(shared) == BudgetLimits(30, 300)


def test_the_variables_set_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_PROVIDER_CREATES_PER_MIN", "60")
    monkeypatch.setenv("LECTUREGEN_PROVIDER_READS_PER_MIN", "300")
    assert BudgetLimits.from_settings(ProviderSettings()) == BudgetLimits(60, 300)


def test_creates_are_posts_to_a_predictions_collection() -> None:
    assert call_of("POST", "/v1/models/a/b/predictions") is Call.CREATE
    assert call_of("POST", "/v1/deployments/a/b/predictions") is Call.CREATE
    assert call_of("GET", "/v1/predictions/x") is Call.READ
    assert call_of("POST", "/v1/predictions/x/cancel") is Call.READ


def test_a_bucket_lets_a_short_burst_through_then_paces_at_its_rate() -> None:
    bucket = TokenBucket(per_min=60, now=0.0)
    burst = [bucket.take(0.0) for _ in range(int(BURST_S))]
    assert burst == [0.0] * int(BURST_S)
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(1.0) == 0.0


def test_a_slow_bucket_still_holds_one_call() -> None:
    bucket = TokenBucket(per_min=6, now=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == pytest.approx(10.0)


def test_a_429_holds_the_bucket_for_its_hint_and_halves_the_rate() -> None:
    bucket = TokenBucket(per_min=60, now=0.0)
    bucket.throttled(0.0, retry_after_s=5)
    assert bucket.take(1.0) == pytest.approx(4.0)
    assert bucket.rate_per_s(5.0) == pytest.approx(0.5)
    assert bucket.take(5.0) == pytest.approx(2.0)  # one token at half the rate
    assert bucket.rate_per_s(5.0 + RECOVER_S / 2) == pytest.approx(0.75)
    assert bucket.rate_per_s(5.0 + RECOVER_S) == pytest.approx(1.0)


def test_429s_of_calls_sent_before_the_hold_ran_out_cut_the_rate_once() -> None:
    bucket = TokenBucket(per_min=60, now=0.0)
    for _ in range(5):
        bucket.throttled(0.1, retry_after_s=2)
    assert bucket.rate_per_s(2.1) == pytest.approx(0.5)


def test_the_rate_is_never_cut_below_a_tenth() -> None:
    bucket = TokenBucket(per_min=60, now=0.0)
    for n in range(10):
        bucket.throttled(float(n), retry_after_s=None)
    assert bucket.rate_per_s(9.0) == pytest.approx(0.1)


async def test_waiting_takers_go_through_one_token_at_a_time() -> None:
    clock = FakeTime()
    budget = AccountBudget(
        BudgetLimits(creates_per_min=60, reads_per_min=60), clock=clock, sleep=clock.sleep
    )
    start = clock.now
    await asyncio.gather(*(budget.acquire(Call.CREATE) for _ in range(int(BURST_S) + 3)))
    assert clock.now - start == pytest.approx(3.0)
    assert budget.sent[Call.CREATE] == BURST_S + 3
    assert budget.sent[Call.READ] == 0


async def test_a_429_is_our_own_rate_only_after_the_budget_made_us_wait() -> None:
    clock = FakeTime()
    budget = AccountBudget(BudgetLimits(60, 60), clock=clock, sleep=clock.sleep)
    await budget.acquire(Call.CREATE)
    assert not budget.own_rate(Call.CREATE)
    for _ in range(int(BURST_S) + 1):
        await budget.acquire(Call.CREATE)
    assert budget.own_rate(Call.CREATE)
    assert not budget.own_rate(Call.READ)
    clock.now += OWN_RATE_WINDOW_S + 1
    assert not budget.own_rate(Call.CREATE)


async def test_a_throttled_budget_waits_out_the_hint_before_the_next_call() -> None:
    clock = FakeTime()
    budget = AccountBudget(BudgetLimits(600, 600), clock=clock, sleep=clock.sleep)
    budget.throttled(Call.READ, 7)
    start = clock.now
    await budget.acquire(Call.READ)
    assert clock.now - start == pytest.approx(7.0 + 1 / 5.0)  # then one token at half the rate
    assert budget.throttled_count == {Call.CREATE: 0, Call.READ: 1}
    assert budget.reads_per_s() == pytest.approx(5.0, abs=0.1)  # cut from 10/s, climbing back


def test_polled_predictions_are_counted_while_they_are_polled() -> None:
    budget = AccountBudget(BudgetLimits(60, 60))
    with budget.polling_one(), budget.polling_one():
        assert budget.polling == 2
    assert budget.polling == 0


async def test_an_answer_with_nothing_remaining_holds_that_kind_until_the_reset() -> None:
    clock = FakeTime()
    budget = AccountBudget(BudgetLimits(600, 600), clock=clock, sleep=clock.sleep)
    budget.exhausted(Call.CREATE, 2)
    start = clock.now
    await budget.acquire(Call.READ)
    assert clock.now == start  # reads have their own window
    await budget.acquire(Call.CREATE)
    assert clock.now - start == pytest.approx(2.0 + 1 / 10.0)  # then one token at the rate
    assert budget.throttled_count[Call.CREATE] == 0
