"""Provider-wide faults: the whole API unavailable for a while (`outage`), or an account's rate
limits enforced (`throttle`). Pure but for the clock, which is passed in.

A throttle is two token buckets, one for creates and one for every other `/v1` call, each
refilled at its per-minute limit and holding a short burst (Replicate's rate-limit page: "You
can make short bursts of requests above the default rate limits before being throttled").
A call finding its bucket empty answers Replicate's 429 with the whole seconds until a token
is back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from replicate_sim import problems
from replicate_sim.problems import Problem

Clock = Callable[[], float]
BURST_S = 10.0
"""A throttle's default burst: this many seconds' worth of its limit."""


class Call(enum.Enum):
    """What kind of `/v1` call is being admitted: the two budgets Replicate keeps."""

    CREATE = "create"
    READ = "read"
    """Every call that does not create a prediction (reads, cancels, models, secrets)."""


def call_of(method: str, path: str) -> Call:
    """The budget a `/v1` request is counted against."""
    creates = method == "POST" and path.endswith("/predictions")
    return Call.CREATE if creates else Call.READ


class Bucket:
    """A token bucket: `per_min` tokens a minute, at most `capacity` saved up."""

    def __init__(self, per_min: float, capacity: float, now: float) -> None:
        self.rate_per_s = per_min / 60.0
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def take(self, now: float) -> float:
        """Take a token: 0 when there was one, else the seconds until there is (none taken)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        if self.rate_per_s <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate_per_s

    def remaining(self, now: float) -> int:
        saved = self.tokens + (now - self.updated) * self.rate_per_s
        return int(min(self.capacity, saved))


@dataclass(frozen=True)
class Throttle:
    """An account's limits, as `POST /sim/faults` set them."""

    creates_per_min: float
    reads_per_min: float
    burst_s: float = BURST_S

    def buckets(self, now: float) -> dict[Call, Bucket]:
        limits = {Call.CREATE: self.creates_per_min, Call.READ: self.reads_per_min}
        return {
            call: Bucket(per_min, max(1.0, per_min / 60.0 * self.burst_s), now)
            for call, per_min in limits.items()
        }


class ProviderFaults:
    """The provider-wide faults of one server, and the admission check every call goes
    through while they last."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._outage: tuple[float, float] | None = None
        """(started, ends) of the outage, in clock seconds."""
        self._throttle: Throttle | None = None
        self._buckets: dict[Call, Bucket] = {}

    def start_outage(self, for_s: float) -> None:
        now = self._clock()
        self._outage = (now, now + for_s)

    def start_throttle(self, throttle: Throttle) -> None:
        self._throttle = throttle
        self._buckets = throttle.buckets(self._clock())

    def clear(self) -> None:
        self._outage, self._throttle, self._buckets = None, None, {}

    def in_outage(self) -> bool:
        return self._outage is not None and self._clock() < self._outage[1]

    def admit(self, call: Call, *, outage_applies: bool = True) -> Problem | None:
        """None when the call may go ahead; otherwise the answer it gets instead."""
        if outage_applies and self.in_outage():
            return problems.unavailable()
        bucket = self._buckets.get(call)
        if bucket is None:
            return None
        wait_s = bucket.take(self._clock())
        if wait_s <= 0:
            return None
        return problems.throttled(max(1, math.ceil(min(wait_s, 3600.0))))

    def remaining(self, call: Call) -> int | None:
        """Calls of this kind left in the throttle's bucket now; None when not throttled."""
        bucket = self._buckets.get(call)
        return bucket.remaining(self._clock()) if bucket is not None else None

    def active(self) -> list[dict[str, Any]]:
        """The faults in force, as `GET /sim/faults` lists them."""
        now = self._clock()
        found: list[dict[str, Any]] = []
        if self._outage is not None and now < self._outage[1]:
            started, ends = self._outage
            found.append(
                {
                    "mode": "outage",
                    "for_s": round(ends - started, 3),
                    "remaining_s": round(ends - now, 3),
                }
            )
        if self._throttle is not None:
            throttle = self._throttle
            found.append(
                {
                    "mode": "throttle",
                    "creates_per_min": throttle.creates_per_min,
                    "reads_per_min": throttle.reads_per_min,
                    "burst_s": throttle.burst_s,
                }
            )
        return found


@dataclass
class ServedCounts:
    """Every `/v1` call answered, by kind, and how many were refused for a provider-wide
    reason: `throttled` counts 429 answers, `unavailable` 503 answers (whatever their cause)."""

    creates: int = 0
    reads: int = 0
    throttled: int = 0
    unavailable: int = 0

    def count(self, call: Call, status: int) -> None:
        if call is Call.CREATE:
            self.creates += 1
        else:
            self.reads += 1
        if status == 429:
            self.throttled += 1
        elif status == 503:
            self.unavailable += 1

    def to_json(self) -> dict[str, int]:
        return {
            "creates": self.creates,
            "reads": self.reads,
            "throttled": self.throttled,
            "unavailable": self.unavailable,
        }
