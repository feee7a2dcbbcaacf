"""PostgreSQL going away and coming back, as the projector waits for it and logs it: one
warning when it goes, a reminder while it stays away, one info line when it is back.

The projector never exits for an unreachable database: it keeps the records it could not
apply unapplied (its offsets live in PostgreSQL, next to the views) and tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import asyncpg

log = logging.getLogger(__name__)

UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)
"""Failures that mean the database cannot be reached (refused, dropped, shutting down or
starting up), as opposed to a statement that failed."""

REMIND_EVERY_S = 60.0


class DatabaseOutage:
    """Logs an outage of the database once, reminds while it lasts, and logs its end."""

    def __init__(
        self, remind_every_s: float = REMIND_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._remind_every_s = remind_every_s
        self._clock = clock
        self._since: float | None = None
        self._reminded = 0.0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """A call failed for want of the database."""
        now = self._clock()
        if self._since is None:
            self._since = self._reminded = now
            log.warning(
                "PostgreSQL is unreachable; waiting for it",
                extra={"error": repr(error)},
            )
        elif now - self._reminded >= self._remind_every_s:
            self._reminded = now
            log.warning(
                "PostgreSQL is still unreachable; waiting for it",
                extra={"down_for_s": round(now - self._since, 1), "error": repr(error)},
            )

    def recovered(self) -> None:
        """A call reached the database."""
        if self._since is not None:
            log.info(
                "PostgreSQL is reachable again; projecting",
                extra={"down_for_s": round(self._clock() - self._since, 1)},
            )
            self._since = None
