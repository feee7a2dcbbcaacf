"""Composition root of provider-health: settings read, topics made, the faust worker run."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import faust
from faust.worker import Worker

from provider_health.job import build
from provider_health.metrics import HealthMetrics
from provider_health.settings import BreakerSettings, ProviderHealthSettings
from shared.kafka import TopicSettings, create_topics, events_topic, provider_health_topic
from shared.observability import ProbeServer, configure_logging
from shared.service import About
from shared.settings import KafkaSettings

log = logging.getLogger("provider_health")

ABOUT = About(
    "lecturegen-provider-health",
    "The fleet-wide circuit breaker: counts provider outcomes per provider/model from the event "
    "log in hopping windows and publishes each circuit change to lecturegen.provider-health.v1, "
    "until SIGTERM or SIGINT.",
    (ProviderHealthSettings, BreakerSettings, KafkaSettings, TopicSettings),
    name="provider-health",
)


def serve(settings: ProviderHealthSettings, kafka: KafkaSettings) -> None:
    ns, topic_settings = kafka.topic_namespace, TopicSettings()
    asyncio.run(
        create_topics(
            kafka, [events_topic(ns, topic_settings), provider_health_topic(ns, topic_settings)]
        )
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = HealthMetrics()
    app = build(
        settings,
        BreakerSettings().thresholds(),
        kafka,
        metrics,
        replication_factor=topic_settings.replication_factor,
    )
    probe = ProbeServer(
        metrics.registry, lambda: True, settings.metrics_host, settings.metrics_port
    )

    @app.task  # type: ignore[untyped-decorator]
    async def serve_probes(app: faust.App) -> None:
        await probe.start()
        log.info("provider-health started", extra={"metrics_port": probe.port})

    # faust owns the event loop and the signals: SIGTERM stops it cleanly
    Worker(app, loglevel=settings.log_level, redirect_stdouts=False).execute_from_commandline()


def main(argv: Sequence[str] | None = None) -> None:
    ABOUT.parser().parse_args(argv)
    settings = ProviderHealthSettings()
    configure_logging(settings.log_level)
    try:
        serve(settings, KafkaSettings())
    except Exception:
        log.exception("provider-health failed")
        sys.exit(1)
