"""The retry policy as data, and the pure decision it drives (DESIGN §4).

`decide` is called with the error of the attempt that just failed and that attempt's
1-based number; the clock is passed in. The worker runtime does what the answer says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.errors import GenerationError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how late a failed generation is tried again."""

    max_retries: int = 3
    """Retries after the first attempt: at most `max_retries + 1` provider calls."""

    base_delay_s: float = 5.0
    """Delay before the first retry."""

    backoff_factor: float = 2.0
    """Each further retry waits this many times longer than the one before."""

    max_tier_s: float = 300.0
    """The longest retry tier; provider hints beyond it hop through it until due."""

    tiers_ms: tuple[int, ...] = field(init=False)
    """Every tier delay in milliseconds, ascending: one retry topic each."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.base_delay_s <= 0 or self.backoff_factor < 1:
            raise ValueError("base_delay_s must be > 0 and backoff_factor >= 1")
        if self.max_tier_s <= 0:
            raise ValueError("max_tier_s must be > 0")
        object.__setattr__(self, "tiers_ms", _tiers_ms(self))

    def delay_s(self, retry_number: int) -> float:
        """The policy's delay before retry `retry_number` (1-based), without any hint."""
        return self.base_delay_s * self.backoff_factor ** (retry_number - 1)

    def tier_for(self, delay_s: float) -> int:
        """The shortest tier (ms) that waits at least `delay_s`; the longest if none does."""
        wanted = _ceil_ms(delay_s)
        return next((t for t in self.tiers_ms if t >= wanted), self.tiers_ms[-1])


def _ceil_ms(delay_s: float) -> int:
    """`delay_s` in whole milliseconds, rounded up.

    The delay is first resolved to the microsecond, so float noise such as
    0.1 * 3 = 0.30000000000000004 gives 300 ms and not 301 ms.
    """
    return math.ceil(round(delay_s * 1000, 3))


def _tiers_ms(policy: RetryPolicy) -> tuple[int, ...]:
    """The policy's own delays, then a doubling ladder up to `max_tier_s` for longer hints."""
    cap = max(1, _ceil_ms(policy.max_tier_s))
    # A tier shorter than a millisecond would never move the ladder below off zero.
    delays = {max(1, _ceil_ms(policy.delay_s(n))) for n in range(1, policy.max_retries + 1)}
    step = max(delays, default=max(1, _ceil_ms(policy.base_delay_s)))
    delays.add(step)
    while step < cap:
        step = min(step * 2, cap)
        delays.add(step)
    return tuple(sorted(delays))


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again: write the request to tier `tier_ms`; it is due at `due_at`."""

    retry_number: int
    delay_s: float
    tier_ms: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Fail:
    """Give up: the asset version ends `failed` (`exhausted` when retries ran out)."""

    retried_count: int
    exhausted: bool


@dataclass(frozen=True, slots=True)
class NeedsPromptUpdate:
    """Give up: the asset version ends `needs_prompt_update`; a person must edit it."""

    retried_count: int


Decision = Retry | Fail | NeedsPromptUpdate


def decide(error: GenerationError, attempt: int, policy: RetryPolicy, now: datetime) -> Decision:
    """What to do after attempt number `attempt` (1-based) failed with `error`."""
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    retried = attempt - 1
    if not error.retryable:
        if error.user_action_required:
            return NeedsPromptUpdate(retried_count=retried)
        return Fail(retried_count=retried, exhausted=False)
    if retried >= policy.max_retries:
        return Fail(retried_count=retried, exhausted=True)
    delay = max(policy.delay_s(attempt), error.retry_after_s or 0.0)
    return Retry(
        retry_number=attempt,
        delay_s=delay,
        tier_ms=policy.tier_for(delay),
        due_at=now + timedelta(seconds=delay),
    )


def tier_due_at(written_at: datetime, tier_ms: int) -> datetime:
    """When a message written to a tier at `written_at` may be processed."""
    return written_at + timedelta(milliseconds=tier_ms)
