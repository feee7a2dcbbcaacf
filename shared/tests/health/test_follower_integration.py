"""Following the compacted health topic: a new follower knows every circuit before it is
ready, and a snapshot of a run without the topic is empty."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import topics
from shared.envelope import encode, envelop
from shared.events import HealthWindow, ProviderHealthChanged
from shared.health.breaker import State
from shared.health.follower import snapshot
from shared.kafka import Outgoing, TopicSettings, create_topics, provider_health_topic
from shared.settings import KafkaSettings
from shared.worker.testing import produce

pytestmark = pytest.mark.integration


def _change(kafka: KafkaSettings, model: str, state: str) -> Outgoing:
    now = datetime.now(UTC)
    payload = ProviderHealthChanged(
        provider="replicate",
        model=model,
        state=state,
        since=now,
        reason="test",
        window=HealthWindow(attempts=4, failures=3, rate_limited=0),
    )
    value, headers = encode(envelop(payload, "test"))
    topic = topics.provider_health(kafka.topic_namespace)
    return Outgoing(topic, f"replicate/{model}".encode(), value, headers)


async def test_a_snapshot_has_the_last_state_of_every_circuit(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    await create_topics(kafka, [provider_health_topic(kafka.topic_namespace, TopicSettings())])
    await produce(
        kafka,
        [
            _change(kafka, "a/one", "open"),
            _change(kafka, "a/two", "open"),
            _change(kafka, "a/one", "half_open"),
            _change(kafka, "a/one", "closed"),
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
