"""Consumer lag: how many records a consumer group has still to read. The arithmetic is pure;
`read_group_lags` asks Kafka, `read_projector_lag` asks the read model's offsets view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.read_model.tables import OFFSETS

Partition = tuple[str, int]
"""(topic, partition)"""


def lag(
    end: Mapping[Partition, int],
    committed: Mapping[Partition, int | None],
    beginning: Mapping[Partition, int],
) -> int:
    """Records between each partition's committed position and its end, summed.

    A partition without a committed offset counts from its beginning (the consumers start from
    the earliest offset); a committed offset below the beginning (retention deleted records)
    also counts from the beginning.
    """
    total = 0
    for partition, end_offset in end.items():
        first = beginning.get(partition, 0)
        position = committed.get(partition)
        position = first if position is None or position < first else position
        total += max(0, end_offset - position)
    return total


async def read_group_lags(
    bootstrap: str, groups: Mapping[str, Iterable[str]], timeout_s: float = 5.0
) -> dict[str, int | None]:
    """The lag of each consumer group over its topics; None for a group Kafka could not tell."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="lecturegen-status", request_timeout_ms=5000
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, client_id="lecturegen-status", enable_auto_commit=False
    )
    try:
        await admin.start()
        await consumer.start()
        wanted = sorted({t for names in groups.values() for t in names})
        counts = await partition_ids(admin, wanted)
        lags: dict[str, int | None] = {}
        for group, topic_names in groups.items():
            partitions = [
                TopicPartition(topic, p) for topic in topic_names for p in counts.get(topic, ())
            ]
            if not partitions:
                lags[group] = None
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            end = await consumer.end_offsets(partitions)
            beginning = await consumer.beginning_offsets(partitions)
            lags[group] = lag(
                {(tp.topic, tp.partition): o for tp, o in end.items()},
                {(tp.topic, tp.partition): m.offset for tp, m in committed.items()},
                {(tp.topic, tp.partition): o for tp, o in beginning.items()},
            )
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def read_projector_lag(
    bootstrap: str, dsn: str, events_topic: str, consumer_name: str
) -> int | None:
    """The projector keeps its offsets in PostgreSQL, next to its views: compare those with
    the event log's end offsets."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        records = await connection.fetch(
            f"SELECT {OFFSETS.select_list()} FROM {OFFSETS.qualified()} WHERE topic = $1",
            events_topic,
        )
    except asyncpg.PostgresError:
        return None
    finally:
        await connection.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="lecturegen-status")
    try:
        await admin.start()
        ids = (await partition_ids(admin, [events_topic])).get(events_topic, [])
    finally:
        await admin.close()
    partitions = [TopicPartition(events_topic, p) for p in ids]
    if not partitions:
        return None
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="lecturegen-status")
    try:
        await consumer.start()
        end = await consumer.end_offsets(partitions)
        beginning = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    positions: dict[Partition, int | None] = {
        (events_topic, row.partition): row.next_offset for row in map(OFFSETS.row, records)
    }
    return lag(
        {(tp.topic, tp.partition): o for tp, o in end.items()},
        positions,
        {(tp.topic, tp.partition): o for tp, o in beginning.items()},
    )


async def partition_ids(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each topic that exists."""
    existing = set(await admin.list_topics())
    present = [name for name in names if name in existing]
    if not present:
        return {}
    described = await admin.describe_topics(present)
    return {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described}
