"""Dependencies of the routes, as `Annotated` aliases so signatures read cleanly."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import TokenVerifier, unauthorized
from api.broadcaster import Broadcaster
from api.claims import Claims
from api.event_log import EventLogWriter
from api.metrics import ApiMetrics
from api.problems import ProblemError
from api.queries import ReadModel
from api.runtime import Runtime
from api.settings import ApiSettings
from shared.health.board import CircuitBoard
from shared.ports import BlobStore

_bearer = HTTPBearer(auto_error=False, description="one of `LECTUREGEN_API_TOKENS`")
_query_token = APIKeyQuery(
    name="access_token",
    auto_error=False,
    description="the bearer token, for EventSource clients that cannot set headers",
)

WAIT_POLL_S = 0.05


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]


def _reads(runtime: RuntimeDep) -> ReadModel:
    return runtime.reads


def _claims(runtime: RuntimeDep) -> Claims:
    return runtime.claims


def _events(runtime: RuntimeDep) -> EventLogWriter:
    return runtime.events


def _broadcaster(runtime: RuntimeDep) -> Broadcaster:
    return runtime.broadcaster


def _blobs(runtime: RuntimeDep) -> BlobStore:
    return runtime.blobs


def _circuits(runtime: RuntimeDep) -> CircuitBoard:
    return runtime.circuits


Reads = Annotated[ReadModel, Depends(_reads)]
Circuits = Annotated[CircuitBoard, Depends(_circuits)]
ClaimsDep = Annotated[Claims, Depends(_claims)]
Events = Annotated[EventLogWriter, Depends(_events)]
BroadcasterDep = Annotated[Broadcaster, Depends(_broadcaster)]
Blobs = Annotated[BlobStore, Depends(_blobs)]


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.tokens
    return verifier


Verifier = Annotated[TokenVerifier, Depends(_verifier)]
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


async def require_token(verifier: Verifier, credentials: BearerCredentials) -> None:
    """`Authorization: Bearer <token>` with one of the configured tokens, or 401."""
    _check(verifier, credentials.credentials if credentials else None)


async def require_stream_token(
    verifier: Verifier,
    credentials: BearerCredentials,
    access_token: Annotated[str | None, Security(_query_token)],
) -> None:
    """Like `require_token`, but `?access_token=` works too (browsers' EventSource)."""
    _check(verifier, credentials.credentials if credentials else access_token)


def _check(verifier: TokenVerifier, presented: str | None) -> None:
    if presented is None:
        raise unauthorized("a bearer token is required")
    if not verifier.accepts(presented):
        raise unauthorized("the bearer token is not valid")


async def read_your_writes(
    reads: Reads,
    settings: SettingsDep,
    wait_for: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9-]{1,64}$",
            description="an event id from a command's answer: wait until the read model "
            "reflects it (503 if it does not in time)",
        ),
    ] = None,
) -> None:
    """With `?wait_for=<event id>`, hold the read until the projector has handled the event."""
    if wait_for is None:
        return
    try:
        async with asyncio.timeout(settings.wait_for_timeout_s):
            # Polling, not LISTEN: `lecture.created` and rejected events send no NOTIFY.
            while not await reads.is_projected(wait_for):  # noqa: ASYNC110
                await asyncio.sleep(WAIT_POLL_S)
    except TimeoutError:
        raise ProblemError(
            503,
            f"event {wait_for!r} is not reflected in the read model yet; retry later",
            slug="not-projected-yet",
            headers={"Retry-After": "1"},
        ) from None
