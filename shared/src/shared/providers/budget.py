"""A process's share of the provider account's rate limits, as two token buckets.

Replicate limits an account to about 600 prediction creates and 3,000 other calls a minute
(its rate-limit page). Every process that calls it with the same token gets a share
(`BudgetLimits.from_settings`), spends it through `AccountBudget.acquire` before each
request (`shared.providers.budgeted_transport` does that for every request the client sends)
and is slowed down by a 429: nothing more of that kind is sent before the answer's
`retry_after`, and the rate is cut, creeping back to the configured one over a minute.

`TokenBucket` is pure (the time is passed in); `AccountBudget` adds the waiting, with the
clock and the sleep injected so tests skip time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.settings import ProviderSettings

REPLICATE_CREATES_PER_MIN = 600.0
"""Replicate's published limit on prediction creates per account."""
REPLICATE_READS_PER_MIN = 3000.0
"""Replicate's published limit on every other call per account (reads of predictions, cancels)."""
BURST_S = 5.0
"""A bucket saves up at most this many seconds' worth of its rate (Replicate allows "short
bursts"; half of what the local server allows, so the shares of a few processes stay within
the account's burst)."""
SLOW_DOWN = 0.5
"""A 429 cuts the rate to this fraction of what it was (once per hold: the 429s of calls sent
before the first one's hint ran out do not cut it again)."""
SLOWEST = 0.1
"""However many 429s come, the rate stays at least this fraction of the configured one."""
RECOVER_S = 60.0
"""After the last 429, the rate climbs back to the configured one over this long."""
OWN_RATE_WINDOW_S = 10.0
"""A 429 counts as caused by this process's own rate when the process had to wait for its
budget within this window (it was sending as fast as its share allows)."""


class Call(enum.Enum):
    """The two budgets Replicate keeps per account."""

    CREATE = "create"
    READ = "read"
    """Every other call: reads of predictions, cancels, model lookups."""


def call_of(method: str, path: str) -> Call:
    """The budget a request to the provider's API spends."""
    creates = method.upper() == "POST" and path.rstrip("/").endswith("/predictions")
    return Call.CREATE if creates else Call.READ


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """What one process may send a minute."""

    creates_per_min: float
    reads_per_min: float

    @classmethod
    def shared_out(cls, shares: int) -> BudgetLimits:
        """Replicate's account limits split evenly over `shares` processes."""
        return cls(REPLICATE_CREATES_PER_MIN / shares, REPLICATE_READS_PER_MIN / shares)

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> BudgetLimits:
        """The configured limits; each one not configured is the account's, shared out."""
        shared = cls.shared_out(settings.account_shares)
        return cls(
            creates_per_min=settings.creates_per_min or shared.creates_per_min,
            reads_per_min=settings.reads_per_min or shared.reads_per_min,
        )


class TokenBucket:
    """`per_min` tokens a minute, at most `burst_s` seconds' worth saved up (at least one)."""

    def __init__(self, per_min: float, now: float, burst_s: float = BURST_S) -> None:
        self.configured_per_s = per_min / 60.0
        self.capacity = max(1.0, self.configured_per_s * burst_s)
        self.tokens = self.capacity
        self.updated = now
        self.held_until = now
        self.slowed_per_s = self.configured_per_s
        self.slowed_at: float | None = None
        self.waited_at: float | None = None
        """When a taker last found the bucket empty or held."""

    def rate_per_s(self, now: float) -> float:
        """The rate now: the configured one, or a cut one climbing back after a 429."""
        if self.slowed_at is None:
            return self.configured_per_s
        climbed = min(1.0, max(0.0, now - self.slowed_at) / RECOVER_S)
        return self.slowed_per_s + (self.configured_per_s - self.slowed_per_s) * climbed

    def take(self, now: float) -> float:
        """Take a token: 0 when one was there, else the seconds to wait first (none taken)."""
        self._refill(now)
        if now < self.held_until:
            self.waited_at = now
            return self.held_until - now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        self.waited_at = now
        return (1.0 - self.tokens) / self.rate_per_s(now)

    def throttled(self, now: float, retry_after_s: float | None) -> None:
        """The provider answered 429: send nothing before its hint, then at a cut rate."""
        self._refill(now)
        self.tokens = 0.0
        if now >= self.held_until:
            floor = self.configured_per_s * SLOWEST
            self.slowed_per_s = max(floor, self.rate_per_s(now) * SLOW_DOWN)
        self.held_until = max(self.held_until, now + (retry_after_s or 0.0))
        self.slowed_at = self.held_until

    def hold(self, now: float, until: float) -> None:
        """The provider said nothing is left until `until`: send nothing before then (at the
        same rate after it)."""
        self._refill(now)
        self.tokens = 0.0
        self.held_until = max(self.held_until, until)

    def waited_recently(self, now: float) -> bool:
        """Whether a taker had to wait within `OWN_RATE_WINDOW_S`."""
        return self.waited_at is not None and now - self.waited_at <= OWN_RATE_WINDOW_S

    def _refill(self, now: float) -> None:
        since = max(self.updated, self.held_until)  # nothing is saved up during a hold
        if now > since:
            gained = (now - since) * self.rate_per_s(now)
            self.tokens = min(self.capacity, self.tokens + gained)
        self.updated = max(self.updated, now)


Sleep = Callable[[float], Awaitable[None]]


class AccountBudget:
    """One process's budget for creates and other calls, shared by all its tasks.

    Takers of a kind queue in order behind one lock, so a burst of tasks is let through one
    token at a time instead of all waking at once."""

    def __init__(
        self,
        limits: BudgetLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        burst_s: float = BURST_S,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._buckets = {
            Call.CREATE: TokenBucket(limits.creates_per_min, now, burst_s),
            Call.READ: TokenBucket(limits.reads_per_min, now, burst_s),
        }
        self._locks = {call: asyncio.Lock() for call in Call}
        self.sent = {call: 0 for call in Call}
        self.throttled_count = {call: 0 for call in Call}
        self.polling = 0
        """Predictions this process is polling right now."""

    async def acquire(self, call: Call) -> None:
        """Wait until the budget allows one more call of this kind, and spend it."""
        bucket = self._buckets[call]
        async with self._locks[call]:
            while (wait_s := bucket.take(self._clock())) > 0:
                await self._sleep(wait_s)
        self.sent[call] += 1

    def throttled(self, call: Call, retry_after_s: float | None) -> None:
        """The provider answered a call of this kind with 429 (and this hint, if any)."""
        self.throttled_count[call] += 1
        self._buckets[call].throttled(self._clock(), retry_after_s)

    def exhausted(self, call: Call, reset_s: float) -> None:
        """An answer said nothing of this kind is left until the window resets in `reset_s`."""
        now = self._clock()
        self._buckets[call].hold(now, now + reset_s)

    def own_rate(self, call: Call) -> bool:
        """Whether a 429 on this kind of call is this process's own doing: it has been sending
        as fast as its budget allows (it had to wait for it within the last few seconds)."""
        return self._buckets[call].waited_recently(self._clock())

    def reads_per_s(self) -> float:
        """The read rate allowed now (cut after a 429)."""
        return self._buckets[Call.READ].rate_per_s(self._clock())

    @contextmanager
    def polling_one(self) -> Iterator[None]:
        """Count a prediction as polled while the block runs."""
        self.polling += 1
        try:
            yield
        finally:
            self.polling -= 1
