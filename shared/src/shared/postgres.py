"""Living with PostgreSQL: the connection type SQL functions take, quoting identifiers, which
errors mean "not reachable now", and a way to run a database call that waits for the server
instead of failing.

A service that waits keeps everything it holds in memory (a created prediction's id, offsets
not yet committed) instead of exiting and having its input redelivered, which for a worker
means a second, paid provider call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import asyncpg

from shared.outages import POSTGRESQL, Outage, outage

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

T = TypeVar("T")

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection of its own or one borrowed from a pool: the SQL functions take either."""


def ident(name: str) -> str:
    """`name` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable host
    TimeoutError,  # connecting took longer than the pool's timeout
    asyncpg.PostgresConnectionError,  # class 08, including a connection that vanished
    asyncpg.InterfaceError,  # the connection was closed under the call
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 2.0


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the server cannot be reached now (so the same call may succeed
    later), as opposed to a call the server refused for what it asked."""
    return isinstance(exc, _UNREACHABLE)


async def patiently(
    call: Callable[[], Awaitable[T]],
    *,
    watch: Outage | None = None,
    first_delay_s: float = FIRST_DELAY_S,
    max_delay_s: float = MAX_DELAY_S,
) -> T:
    """`call()`, tried again (with a growing pause, up to `max_delay_s`) for as long as the
    server is unreachable; any other error is raised. The outage is logged through `watch`
    (default: the process's PostgreSQL outage): one warning, reminders, one recovery line.

    Only for calls that may be repeated: a call cut off by a lost connection may have
    taken effect on the server."""
    watch = watch or outage(POSTGRESQL)
    delay = first_delay_s
    while True:
        try:
            result = await call()
        except Exception as exc:
            if not unreachable(exc):
                raise
            watch.failed(_describe(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
            continue
        watch.recovered()
        return result


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
