"""Following the compacted health topic: a new follower knows every circuit before it is
ready, and a snapshot of a run without the topic is empty."""

from __future__ import annotations

import pytest

from shared.events import HealthWindow
from shared.health.breaker import State
from shared.health.follower import snapshot
from shared.health.testing import health_change
from shared.kafka import TopicSettings, create_topics, provider_health_topic
from shared.settings import KafkaSettings
from shared.worker.testing import produce

pytestmark = pytest.mark.integration

THREE_OF_FOUR = HealthWindow(attempts=4, failures=3, rate_limited=0)


async def test_a_snapshot_has_the_last_state_of_every_circuit(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    await create_topics(kafka, [provider_health_topic(kafka.topic_namespace, TopicSettings())])
    await produce(
        kafka,
        [
            health_change(kafka.topic_namespace, "a/one", "open"),
            health_change(kafka.topic_namespace, "a/two", "open", window=THREE_OF_FOUR),
            health_change(kafka.topic_namespace, "a/one", "half_open"),
            health_change(kafka.topic_namespace, "a/one", "closed"),
        ],
    )

    views = await snapshot(kafka)

    assert {key: view.state for key, view in views.items()} == {
        "replicate/a/one": State.CLOSED,
        "replicate/a/two": State.OPEN,
    }
    assert views["replicate/a/two"].error_rate == 0.75


async def test_a_snapshot_without_a_health_topic_is_empty(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    assert await snapshot(kafka) == {}
