"""A backing service that is down answers 503 with `Retry-After`, never 500.

Which errors mean "the database (or the broker, or the blob store) is unreachable right now"
is decided here, once: connection failures, the server shutting down or starting up
(SQLSTATE class 57), too many connections (class 53), a pool connection that broke. None of
them is a fault of the request, and each goes away by itself when the service comes back:
the pool opens new connections on the next request, so the API recovers without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.event_log import EventLogUnavailableError
from api.problems import ProblemError, problem_response
from api.queries import ReadModelUnavailableError
from shared.blobstore import BlobStoreError

RETRY_AFTER_S = 2
"""What `Retry-After` tells clients: a reconnect attempt costs little, so ask again soon."""

OUTAGES: dict[type[Exception], str] = {
    ReadModelUnavailableError: "the read model",
    EventLogUnavailableError: "the event log",
    asyncpg.PostgresConnectionError: "the database",  # SQLSTATE class 08
    asyncpg.OperatorInterventionError: "the database",  # class 57: shutting down, starting up
    asyncpg.InsufficientResourcesError: "the database",  # class 53: too many connections
    asyncpg.InterfaceError: "the database",  # a pool connection closed under us
    BlobStoreError: "the blob store",
    ConnectionError: "a backing service",  # refused or reset before any protocol
    TimeoutError: "a backing service",  # a pool or a connect that did not answer in time
}

DATABASE_OUTAGES: tuple[type[Exception], ...] = tuple(
    error for error, what in OUTAGES.items() if what in ("the database", "a backing service")
)
"""What a read that already streams waits out instead of ending the stream."""

log = logging.getLogger(__name__)


def retry_later(detail: str) -> ProblemError:
    """A 503 a route raises itself when a backing service did not take its write."""
    return ProblemError(
        503, detail, slug="unavailable", headers={"Retry-After": str(RETRY_AFTER_S)}
    )


def install_outage_handlers(app: FastAPI) -> None:
    """Answer every error of `OUTAGES` with 503, `Retry-After` and the service's name."""
    for error, what in OUTAGES.items():
        app.add_exception_handler(error, _unavailable(what))


def _unavailable(what: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s is unavailable: %r", what, exc)
        return problem_response(
            503,
            request=request,
            detail=f"{what} is unavailable; retry later",
            slug="unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    return handler
