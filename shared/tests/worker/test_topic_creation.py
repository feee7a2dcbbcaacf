"""`shared.kafka.ensure_topics` against the real broker."""

from __future__ import annotations

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared import topics
from shared.kafka import (
    TopicSettings,
    TopicSpec,
    ensure_topics,
    events_topic,
    make_admin,
    medium_topics,
)
from shared.media import MediaKind
from shared.retry import RetryPolicy
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration

MUSIC = MediaKind.MUSIC


async def test_missing_topics_are_created_once_and_existing_ones_are_left_alone(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    ns = f"t{unique_name}."
    policy = RetryPolicy(base_delay_s=1, max_tier_s=4)  # tiers 1 s, 2 s, 4 s
    defaults = TopicSettings()
    specs = [*medium_topics(MUSIC, policy, ns, defaults), events_topic(ns, defaults)]
    names = [s.name for s in specs]
    admin = make_admin(kafka)
    await admin.start()
    try:
        created = await ensure_topics(admin, specs)
        again = await ensure_topics(admin, [*specs, TopicSpec(topics.requests(MUSIC, ns), 2)])
        described = await admin.describe_topics(names)
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topics.events(ns))]
        )
    finally:
        await admin.delete_topics(names)
        await admin.close()

    partitions = {t["topic"]: len(t["partitions"]) for t in described}
    assert sorted(created) == sorted(names)
    assert again == []
    assert partitions[topics.requests(MUSIC, ns)] == 8  # not changed to 2
    assert [partitions[topics.retry_tier(MUSIC, t, ns)] for t in (1000, 2000, 4000)] == [4] * 3
    assert partitions[topics.dead_letter(MUSIC, ns)] == 1
    assert partitions[topics.events(ns)] == 8
    entries = configs[0].resources[0][4]
    assert ("retention.ms", "-1") in [(entry[0], entry[1]) for entry in entries]
