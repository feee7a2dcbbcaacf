"""When to read a running prediction again: soon for a medium that is quick to make, seldom
for a slow one, and never so often that the predictions a process polls together would spend
more than their share of its read budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.media import MediaKind

POLL_SHARE = 0.8
"""The part of a process's read budget its polls may plan to use; the rest is room for the
client's own retries, cancels and the reads that check an expired output."""


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """Checks of one prediction: the first after `first_s`, each next one `factor` times
    later than the one before, never more than `max_s` apart."""

    first_s: float
    factor: float = 1.5
    max_s: float = 10.0

    def delay(self, checks_done: int) -> float:
        """Seconds before the next check, when `checks_done` checks have been made."""
        return min(self.max_s, self.first_s * self.factor**checks_done)


SCHEDULES: dict[MediaKind, PollSchedule] = {
    MediaKind.IMAGE: PollSchedule(first_s=0.5, max_s=5.0),
    MediaKind.NARRATION: PollSchedule(first_s=1.0, max_s=10.0),
    MediaKind.MUSIC: PollSchedule(first_s=3.0, max_s=20.0),
    MediaKind.VIDEO: PollSchedule(first_s=5.0, max_s=30.0),
}
"""Typical times on Replicate: an image in a few seconds (flux-schnell about 1-3 s), speech in
a few more, music in tens of seconds, a video clip in minutes. An image is first checked as
soon as the old fixed interval did (0.5 s), so a quick one is not seen later than before."""


def schedule_for(kind: MediaKind, fixed_interval_s: float | None = None) -> PollSchedule:
    """The medium's schedule, or a fixed interval when one is configured."""
    if fixed_interval_s is not None:
        return PollSchedule(first_s=fixed_interval_s, factor=1.0, max_s=fixed_interval_s)
    return SCHEDULES[kind]


def next_poll_s(
    schedule: PollSchedule, checks_done: int, polling: int, reads_per_s: float
) -> float:
    """Seconds before the next check of one prediction, while `polling` predictions (this one
    included) are polled under a read budget of `reads_per_s`: the schedule's delay, stretched
    so that all of them together stay within `POLL_SHARE` of the budget."""
    spread = max(1, polling) / (reads_per_s * POLL_SHARE) if reads_per_s > 0 else 0.0
    return max(schedule.delay(checks_done), spread)
