"""When to restart a crashed process: exponential backoff that forgives a long healthy run.

Pure: the supervisor passes in the clock readings, so tests skip time instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How long the supervisor waits before restarting a process that exited on its own."""

    initial_delay_s: float = 0.5
    """Wait before the first restart after a healthy run."""

    factor: float = 2.0
    """Each further crash in a row waits this many times longer."""

    max_delay_s: float = 30.0
    """The longest wait: a process that keeps crashing is still retried this often."""

    healthy_after_s: float = 30.0
    """A run at least this long counts as healthy: the next crash starts the backoff afresh."""

    def delay_s(self, crashes_in_a_row: int) -> float:
        """The wait before restarting after the `crashes_in_a_row`-th crash (1-based)."""
        delay = self.initial_delay_s * self.factor ** (crashes_in_a_row - 1)
        return min(delay, self.max_delay_s)


@dataclass(slots=True)
class Backoff:
    """The crash history of one process, as far as the next restart delay depends on it."""

    policy: RestartPolicy
    crashes_in_a_row: int = 0
    started_at: float | None = None

    def started(self, now: float) -> None:
        """The process was (re)started at monotonic time `now`."""
        self.started_at = now

    def exited(self, now: float) -> float:
        """The process exited on its own at `now`; returns the wait before restarting it."""
        ran_for = 0.0 if self.started_at is None else now - self.started_at
        if ran_for >= self.policy.healthy_after_s:
            self.crashes_in_a_row = 0
        self.crashes_in_a_row += 1
        self.started_at = None
        return self.policy.delay_s(self.crashes_in_a_row)
