"""The composition root of the API: `create_app(settings)` wires routers, errors, metrics,
and opens every connection in the lifespan (nothing connects at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.auth import TokenVerifier
from api.body_limit import BodyLimit
from api.broadcaster import Broadcaster
from api.claims import Claims
from api.cors import allow_cross_origin
from api.event_log import COMPRESSION, EventLogWriter, appendable_bytes
from api.metrics import ApiMetrics
from api.observe import RequestObserver
from api.openapi import problem_openapi
from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.queries import ReadModel
from api.routers import assets, catalog, lectures, media, ops, providers, webhooks
from api.runtime import Runtime
from api.settings import ApiSettings
from api.web import editor
from api.webhook_inbox import open_webhook_inbox
from shared import topics
from shared.blobstore import open_blob_store
from shared.health.board import CircuitBoard
from shared.health.follower import following
from shared.kafka import (
    EVENTS_MAX_MESSAGE_BYTES,
    TopicSettings,
    create_topics,
    events_topic,
    make_producer,
    max_message_bytes,
)

log = logging.getLogger(__name__)


def create_app(settings: ApiSettings) -> FastAPI:
    """The API application; connections open when its lifespan starts."""
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.runtime = await _open(settings, stack)
            app.state.webhooks = await open_webhook_inbox(settings, stack)
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
    routers = (
        lectures.router,
        lectures.stream_router,
        assets.router,
        media.router,
        ops.router,
        catalog.router,
        providers.router,
        editor.router,
        webhooks.router,
    )
    for router in routers:
        app.include_router(router)
    metrics.start_series_at_zero(
        (method, route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )
    install_problem_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
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
    events = topics.events(namespace)
    await create_topics(settings.kafka, [events_topic(namespace, TopicSettings())])
    max_bytes = await _appendable_bytes(settings, events)
    producer = make_producer(
        settings.kafka,
        request_timeout_ms=settings.kafka_timeout_ms,
        max_request_size=EVENTS_MAX_MESSAGE_BYTES,
        compression_type=COMPRESSION,
    )
    stack.push_async_callback(producer.stop)  # also closes a producer that failed to start
    await producer.start()
    broadcaster = Broadcaster(dsn)
    await broadcaster.start()
    stack.push_async_callback(broadcaster.close)
    circuits = await stack.enter_async_context(following(settings.kafka, CircuitBoard()))
    http = httpx.AsyncClient(timeout=30)  # for an S3 blob store; unused by the filesystem one
    stack.push_async_callback(http.aclose)
    return Runtime(
        reads=ReadModel(pool),
        claims=claims,
        events=EventLogWriter(producer, events, settings.source, max_bytes=max_bytes),
        broadcaster=broadcaster,
        blobs=open_blob_store(settings.blob, http),
        circuits=circuits,
    )


async def _appendable_bytes(settings: ApiSettings, topic: str) -> int:
    """The largest event the API appends: what the events topic takes now (an older topic
    may keep a lower limit than the one it is created with; then larger lectures get 413)."""
    topic_limit = min(await max_message_bytes(settings.kafka, topic), EVENTS_MAX_MESSAGE_BYTES)
    if topic_limit < EVENTS_MAX_MESSAGE_BYTES:
        log.warning(
            "topic %s takes records up to %d bytes, less than the %d lectures at the documented "
            "limits need; raise its max.message.bytes",
            topic,
            topic_limit,
            EVENTS_MAX_MESSAGE_BYTES,
        )
    return appendable_bytes(topic_limit)
