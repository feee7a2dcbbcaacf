"""Composition root of the dispatcher: settings read, topics made, clients opened, loop run."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from dispatcher.runner import Dispatcher
from dispatcher.settings import DispatcherSettings
from shared import topics
from shared.consumer_lag import ConsumerLag
from shared.kafka import (
    TopicSettings,
    TopicSpec,
    create_topics,
    events_topic,
    make_consumer,
    make_producer,
)
from shared.kafka.publisher import KafkaPublisher
from shared.media import MediaKind
from shared.service import About, run_service, running
from shared.settings import KafkaSettings

log = logging.getLogger("dispatcher")

ABOUT = About(
    "lecturegen-dispatcher",
    "Turns lecture.created and asset.regeneration-requested events into one GenerateAsset "
    "command per asset on its medium's request topic, until SIGTERM or SIGINT.",
    (DispatcherSettings, KafkaSettings, TopicSettings),
    name="dispatcher",
)


def request_topics(namespace: str, settings: TopicSettings) -> list[TopicSpec]:
    return [
        TopicSpec(
            topics.requests(kind, namespace),
            settings.request_partitions,
            settings.replication_factor,
        )
        for kind in MediaKind
    ]


async def serve(settings: DispatcherSettings, kafka: KafkaSettings) -> None:
    """Dispatch until SIGTERM or SIGINT."""
    ns = kafka.topic_namespace
    topic_settings = TopicSettings()
    await create_topics(
        kafka, [events_topic(ns, topic_settings), *request_topics(ns, topic_settings)]
    )
    async with contextlib.AsyncExitStack() as stack:
        producer = make_producer(kafka)
        stack.push_async_callback(producer.stop)  # also closes a producer that failed to start
        await producer.start()
        consumer = make_consumer(
            kafka,
            settings.group_id,
            session_timeout_ms=settings.session_timeout_ms,
            max_poll_records=settings.max_batch,
        )
        stack.push_async_callback(consumer.stop)
        dispatcher = Dispatcher(
            consumer, KafkaPublisher(producer), namespace=ns, max_batch=settings.max_batch
        )
        lag = ConsumerLag(dispatcher.metrics.registry, settings.group_id)
        await stack.enter_async_context(lag.watching(lambda: consumer))
        port = await stack.enter_async_context(
            running(
                dispatcher.metrics.registry,
                lambda: dispatcher.healthy,
                dispatcher.stop,
                host=settings.metrics_host,
                port=settings.metrics_port,
            )
        )
        log.info("dispatcher started", extra={"metrics_port": port, "group_id": settings.group_id})
        await dispatcher.run()
        log.info("dispatcher stopped")


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        ABOUT,
        DispatcherSettings,
        lambda settings: serve(settings, KafkaSettings()),
        log_level=lambda settings: settings.log_level,
        argv=argv,
    )
