"""When the head of a retry tier partition may run (DESIGN §4), as pure functions of the clock.

A record in tier `T` is due at (its timestamp) + T. Records of one tier partition are written
in time order, so their due times only grow: the consumer waits for the head and nothing else.
A record must also never run before its `DUE_AT` header. That header lies beyond the tier only
for provider hints longer than the longest tier; such a record goes through a tier once more
("hops") instead of holding up the partition behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.headers import DUE_AT
from shared.kafka.records import Record
from shared.retry import RetryPolicy, tier_due_at

HOP_SLACK = timedelta(milliseconds=100)
"""How far `DUE_AT` may lie past the tier's due time and still be waited for in place.

Record timestamps have millisecond resolution, so `DUE_AT` (set just before the write, to the
microsecond) can lie a hair past timestamp + tier; such a record waits those few microseconds
more rather than hopping through a whole tier again."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Not due yet: look again at `until`."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Run:
    """Due: run the attempt now."""


@dataclass(frozen=True, slots=True)
class Hop:
    """The tier's delay is over but the record's own due time is not: write it to `tier_ms`."""

    tier_ms: int


HeadAction = Wait | Run | Hop


def due_header(record: Record) -> datetime | None:
    """The record's `DUE_AT` header as a time, or None when it has none (or an unreadable one)."""
    raw = record.header(DUE_AT)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def head_action(record: Record, tier_ms: int, policy: RetryPolicy, now: datetime) -> HeadAction:
    """What to do with the head `record` of a partition of tier `tier_ms` at time `now`."""
    tier_due = tier_due_at(record.written_at, tier_ms)
    wanted = due_header(record)
    if wanted is not None and wanted > tier_due + HOP_SLACK:
        if now < tier_due:
            return Wait(tier_due)
        if now + HOP_SLACK < wanted:
            return Hop(policy.tier_for((wanted - now).total_seconds()))
        tier_due = wanted
    elif wanted is not None:
        tier_due = max(tier_due, wanted)
    if now < tier_due:
        return Wait(tier_due)
    return Run()
