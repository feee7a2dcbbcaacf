"""Outages of what a process depends on (the Kafka broker, PostgreSQL), logged the way an
operator wants to read them: one warning when it goes away, a reminder while it stays away,
and one line when it is back, however many calls failed in between.

Whoever sees a call fail for want of the dependency reports `failed`; whoever sees one
succeed reports `recovered`. Both are cheap when nothing changes, so they may be called on
every try. One `Outage` per dependency and process (`outage("postgresql")`), shared by every
caller, so a hundred turns waiting for the database still give one warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("shared.outages")

REMIND_EVERY_S = 60.0
"""How often a reminder is logged while a dependency stays unreachable."""
CONFIRM_AFTER_S = 1.0
"""How long calls must keep failing, with no success in between, before the dependency counts
as gone: a blip that heals within this is not worth a line (a stopping broker, for one, still
answers a few calls while it shuts down)."""
FORGET_AFTER_S = 10.0
"""Failures further apart than this, before an outage was announced, are separate blips, not
one outage (a caller waiting for a dependency tries again within seconds)."""

KAFKA = "kafka"
POSTGRESQL = "postgresql"


class Outage:
    """Whether one dependency is reachable, and the few log lines about it.

    An outage begins when calls have failed for `confirm_after_s` with no success between
    them. At most one warning per `remind_every_s` (the first one, then reminders); a recovery
    is logged only for an outage that was announced, so a dependency that flaps logs at most a
    warning and a recovery line per reminder period."""

    def __init__(
        self,
        dependency: str,
        *,
        remind_every_s: float = REMIND_EVERY_S,
        confirm_after_s: float = CONFIRM_AFTER_S,
        forget_after_s: float = FORGET_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dependency = dependency
        self.remind_every_s = remind_every_s
        self.confirm_after_s = confirm_after_s
        self.forget_after_s = forget_after_s
        self._clock = clock
        self._since: float | None = None
        """When the calls began to fail (None: the last call succeeded)."""
        self._announced = False
        self._last_warning: float | None = None
        self._failures = 0
        self._last_failure = 0.0

    @property
    def down(self) -> bool:
        """Whether the last call failed."""
        return self._since is not None

    def failed(self, reason: object) -> None:
        """A call failed because the dependency could not be reached."""
        now = self._clock()
        if (
            self._since is not None
            and not self._announced
            and now - self._last_failure > self.forget_after_s
        ):
            self._since = None  # an old blip, healed on a connection nobody reported
        if self._since is None:
            self._since, self._failures, self._announced = now, 0, False
        self._failures += 1
        self._last_failure = now
        if now - self._since < self.confirm_after_s:
            return
        if self._last_warning is not None and now - self._last_warning < self.remind_every_s:
            return
        if not self._announced:
            self._announced = True
            self._warn(now, f"{self.dependency} is unreachable; waiting for it: {reason}")
        else:
            self._warn(
                now,
                f"{self.dependency} is still unreachable after {now - self._since:.0f} s"
                f" ({self._failures} failed calls); still waiting: {reason}",
            )

    def recovered(self) -> None:
        """A call reached the dependency."""
        if self._since is not None:
            self._end()

    def _end(self) -> None:
        assert self._since is not None
        took = self._clock() - self._since
        if self._announced:
            log.info(
                "%s is reachable again after %.1f s",
                self.dependency,
                took,
                extra={"dependency": self.dependency, "outage_s": round(took, 1)},
            )
        self._since, self._announced, self._failures = None, False, 0

    def _warn(self, now: float, message: str) -> None:
        self._last_warning = now
        log.warning(message, extra={"dependency": self.dependency})


_OUTAGES: dict[str, Outage] = {}


def outage(dependency: str) -> Outage:
    """The process's one `Outage` of `dependency` (`KAFKA`, `POSTGRESQL`, …)."""
    found = _OUTAGES.get(dependency)
    if found is None:
        found = _OUTAGES[dependency] = Outage(dependency)
    return found
