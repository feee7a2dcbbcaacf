"""`shared.kafka.wait_for_leaders` against the real broker."""

from __future__ import annotations

import pytest

from shared.kafka import TopicSpec, create_topics, ensure_topics, make_admin, wait_for_leaders
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


async def test_waiting_for_leaders_returns_once_every_new_partition_has_one(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    name = f"t{unique_name}.leaders"
    await create_topics(kafka, [TopicSpec(name, 6)])
    await wait_for_leaders(kafka, [name], timeout_s=30)
    admin = make_admin(kafka)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([name])
        assert len(described["partitions"]) == 6
        assert all(p["leader"] >= 0 for p in described["partitions"])
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def test_topics_made_by_ensure_topics_have_leaders_when_it_returns(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    names = [f"t{unique_name}.led.{i}" for i in range(4)]
    admin = make_admin(kafka)
    await admin.start()
    try:
        await ensure_topics(admin, [TopicSpec(name, 12) for name in names])
        described = await admin.describe_topics(names)
        assert [len(topic["partitions"]) for topic in described] == [12] * 4
        assert all(p["leader"] >= 0 for topic in described for p in topic["partitions"])
        await admin.delete_topics(names)
    finally:
        await admin.close()
