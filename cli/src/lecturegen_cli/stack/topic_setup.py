"""Creates the pipeline's topics before any service starts, so no consumer waits on a topic
that appears later and every topic gets its intended partition count."""

from __future__ import annotations

from shared.kafka import TopicSettings, create_topics, events_topic, medium_topics
from shared.media import MediaKind
from shared.settings import KafkaSettings, RetrySettings


async def ensure_pipeline_topics() -> list[str]:
    """Create the event log and each medium's request, retry-tier and dead-letter topics (in
    the configured namespace) where missing; return the names created."""
    kafka = KafkaSettings()
    policy = RetrySettings().policy()
    counts = TopicSettings()
    namespace = kafka.topic_namespace
    specs = [events_topic(namespace, counts)]
    for kind in MediaKind:
        specs += medium_topics(kind, policy, namespace, counts)
    return await create_topics(kafka, specs)
