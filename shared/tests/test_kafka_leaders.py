"""`shared.kafka.wait_for_leaders` against the real broker."""

from __future__ import annotations

import pytest

from shared.kafka import TopicSpec, create_topics, make_admin, wait_for_leaders
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
