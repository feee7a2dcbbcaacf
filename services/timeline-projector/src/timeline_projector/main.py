"""Composition root of the timeline projector: settings, migrations, the consumer loop,
`/metrics` and `/healthz`, JSON-line logs, and a clean stop on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import asyncpg

from shared.consumer_lag import ConsumerLag
from shared.kafka import TopicSettings, create_topics, events_topic
from shared.observability import ProbeServer, configure_logging
from timeline_projector.config import Settings
from timeline_projector.consumer import LiveProjector
from timeline_projector.metrics import ProjectorMetrics
from timeline_projector.migrate import migrate

log = logging.getLogger(__name__)


def main() -> None:
    """`lecturegen-timeline-projector`: project the event log until stopped."""
    settings = Settings.from_env()
    configure_logging(settings.projector.log_level)
    asyncio.run(serve(settings))


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the projector until `stop` is set (or SIGTERM/SIGINT arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _serve(settings, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, stop: asyncio.Event) -> None:
    metrics = ProjectorMetrics()
    await create_topics(
        settings.kafka, [events_topic(settings.kafka.topic_namespace, TopicSettings())]
    )
    pool = await asyncpg.create_pool(settings.postgres.dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            generation = await migrate(conn)
        projector = LiveProjector(settings, pool, metrics)
        running = asyncio.create_task(projector.run(), name="projector")
        probes = ProbeServer(
            metrics.registry,
            lambda: not running.done() and projector.healthy(),
            settings.projector.metrics_host,
            settings.projector.metrics_port,
        )
        await probes.start()
        log.info(
            "timeline projector started",
            extra={
                "topic": projector.topic,
                "generation": generation.number,
                "metrics_port": probes.port,
            },
        )
        lag = ConsumerLag(metrics.registry, settings.projector.group_id)
        try:
            async with lag.watching(lambda: projector.consumer):
                stopping = asyncio.create_task(stop.wait(), name="stop")
                await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if running.done():
                    running.result()  # the loop ended on its own: that is a failure, raise it
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        finally:
            await probes.close()
        log.info("timeline projector stopped")
    finally:
        await pool.close()
