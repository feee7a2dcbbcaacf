"""The composition root of the API: `create_app(settings)` wires routers, errors, metrics,
and opens every connection in the lifespan (nothing connects at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.auth import TokenVerifier
from api.broadcaster import Broadcaster
from api.claims import Claims
from api.cors import allow_cross_origin
from api.event_log import EventLog, EventLogUnavailableError
from api.metrics import ApiMetrics
from api.observe import RequestObserver
from api.openapi import problem_openapi
from api.problems import install_problem_handlers, problem_response
from api.queries import ReadModel, ReadModelUnavailableError
from api.routers import assets, catalog, lectures, media, ops
from api.runtime import Runtime
from api.settings import ApiSettings
from api.web import editor
from shared import topics
from shared.blobstore import BlobStoreError, open_blob_store
from shared.kafka import TopicSettings, create_topics, events_topic, make_producer

log = logging.getLogger(__name__)


def create_app(settings: ApiSettings) -> FastAPI:
    """The API application; connections open when its lifespan starts."""
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.runtime = await _open(settings, stack)
            yield

    app = FastAPI(
        title="lecturegen API",
        version="1",
        summary="Generate lecture media; follow every asset to a state a person can act on.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.tokens = TokenVerifier(settings.tokens)
    if not settings.tokens:
        log.warning("no API tokens configured: every /v1 request will be refused")
    for router in (
        lectures.router,
        lectures.stream_router,
        assets.router,
        media.router,
        ops.router,
        catalog.router,
        editor.router,
    ):
        app.include_router(router)
    install_problem_handlers(app)
    app.add_exception_handler(ReadModelUnavailableError, _unavailable("the read model"))
    app.add_exception_handler(EventLogUnavailableError, _unavailable("the event log"))
    app.add_exception_handler(asyncpg.PostgresConnectionError, _unavailable("the database"))
    app.add_exception_handler(asyncpg.InterfaceError, _unavailable("the database"))
    app.add_exception_handler(BlobStoreError, _unavailable("the blob store"))
    app.add_exception_handler(ConnectionError, _unavailable("a backing service"))
    app.add_middleware(RequestObserver, metrics=metrics)
    allow_cross_origin(app, settings.cors_origins)
    app.openapi = problem_openapi(app)  # type: ignore[method-assign]
    return app


async def _open(settings: ApiSettings, stack: AsyncExitStack) -> Runtime:
    dsn = settings.postgres.dsn
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=settings.pool_size)
    stack.push_async_callback(pool.close)
    claims = Claims(pool)
    await claims.create_schema()
    namespace = settings.kafka.topic_namespace
    await create_topics(settings.kafka, [events_topic(namespace, TopicSettings())])
    producer = make_producer(settings.kafka, request_timeout_ms=settings.kafka_timeout_ms)
    stack.push_async_callback(producer.stop)  # also closes a producer that failed to start
    await producer.start()
    broadcaster = Broadcaster(dsn)
    await broadcaster.start()
    stack.push_async_callback(broadcaster.close)
    http = httpx.AsyncClient(timeout=30)  # for an S3 blob store; unused by the filesystem one
    stack.push_async_callback(http.aclose)
    return Runtime(
        reads=ReadModel(pool),
        claims=claims,
        events=EventLog(producer, topics.events(namespace), settings.source),
        broadcaster=broadcaster,
        blobs=open_blob_store(settings.blob, http),
    )


def _unavailable(what: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s is unavailable: %r", what, exc)
        return problem_response(
            503,
            request=request,
            detail=f"{what} is unavailable; retry later",
            slug="unavailable",
            headers={"Retry-After": "1"},
        )

    return handler
