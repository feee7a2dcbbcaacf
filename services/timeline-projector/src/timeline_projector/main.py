"""Composition root of the timeline projector: settings, migrations, the consumer loop,
`/metrics` and `/healthz`, JSON-line logs, and a clean stop on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg

from shared.consumer_lag import ConsumerLag
from shared.kafka import TopicSettings, create_topics, events_topic
from shared.outages import POSTGRESQL, Outage, outage
from shared.postgres import unreachable
from shared.service import About, probes, run_service, stop_signals
from shared.settings import KafkaSettings, PostgresSettings
from timeline_projector.config import ProjectorSettings, Settings
from timeline_projector.consumer import MAX_RETRY_DELAY_S, LiveProjector
from timeline_projector.generations import Generation
from timeline_projector.metrics import ProjectorMetrics
from timeline_projector.migrate import migrate

log = logging.getLogger(__name__)


ABOUT = About(
    "lecturegen-timeline-projector",
    "Projects the event log into the PostgreSQL views the API reads, storing its offsets "
    "with them, until SIGTERM or SIGINT. `python -m timeline_projector rebuild` replays the "
    "log into a new generation instead.",
    (ProjectorSettings, KafkaSettings, PostgresSettings, TopicSettings),
    name="timeline projector",
)


def main(argv: Sequence[str] | None = None) -> None:
    """`lecturegen-timeline-projector`: project the event log until stopped."""
    run_service(
        ABOUT,
        Settings.from_env,
        serve,
        log_level=lambda settings: settings.projector.log_level,
        argv=argv,
    )


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the projector until `stop` is set (or SIGTERM/SIGINT arrives)."""
    stop = stop or asyncio.Event()
    with stop_signals(stop.set):
        await _serve(settings, stop)


async def _serve(settings: Settings, stop: asyncio.Event) -> None:
    metrics = ProjectorMetrics()
    await create_topics(
        settings.kafka, [events_topic(settings.kafka.topic_namespace, TopicSettings())]
    )
    database = outage(POSTGRESQL)
    connected = await _wait_for_database(settings, stop, database)
    if connected is None:
        return  # stopped before the database came
    pool, generation = connected
    try:
        projector = LiveProjector(settings, pool, metrics, database=database)
        running = asyncio.create_task(projector.run(), name="projector")
        lag = ConsumerLag(metrics.registry, settings.projector.group_id)
        async with (
            probes(
                metrics.registry,
                lambda: not running.done() and projector.healthy(),
                settings.projector.metrics_host,
                settings.projector.metrics_port,
            ) as probe,
            lag.watching(lambda: projector.consumer),
        ):
            log.info(
                "timeline projector started",
                extra={
                    "topic": projector.topic,
                    "generation": generation.number,
                    "metrics_port": probe.port,
                },
            )
            stopping = asyncio.create_task(stop.wait(), name="stop")
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if running.done():
                running.result()  # the loop ended on its own: that is a failure, raise it
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        log.info("timeline projector stopped")
    finally:
        await pool.close()


async def _wait_for_database(
    settings: Settings, stop: asyncio.Event, database: Outage
) -> tuple[asyncpg.Pool, Generation] | None:
    """A pool and the migrated current generation, once the database answers; None when
    `stop` is set first. An unreachable database is waited for, not a reason to exit."""
    delay = 0.25
    while not stop.is_set():
        pool: asyncpg.Pool | None = None
        try:
            # No floor of idle connections: asyncpg would log every failed try to keep it up
            # while the database is away.
            pool = await asyncpg.create_pool(settings.postgres.dsn, min_size=0, max_size=2)
            async with pool.acquire() as conn:
                generation = await migrate(conn)
        except Exception as exc:
            if pool is not None:
                pool.terminate()
            if not unreachable(exc):
                raise
            database.failed(repr(exc))
        else:
            database.recovered()
            return pool, generation
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(MAX_RETRY_DELAY_S, delay * 2)
    return None
