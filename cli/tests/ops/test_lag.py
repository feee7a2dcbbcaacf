"""Consumer lag: the arithmetic, and the readers against a real broker and the projector's
offsets table."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata

from lecturegen_cli.ops.lag import lag, read_group_lags, read_projector_lag
from shared.kafka import TopicSpec, create_topics, make_consumer, make_producer
from shared.settings import KafkaSettings
from timeline_projector.migrate import migrate


def test_lag_sums_what_each_partition_has_left_after_its_committed_offset() -> None:
    end = {("t", 0): 10, ("t", 1): 5}
    assert lag(end, {("t", 0): 7, ("t", 1): 5}, {}) == 3


def test_a_partition_without_a_committed_offset_counts_from_its_beginning() -> None:
    end = {("t", 0): 10, ("t", 1): 4}
    beginning = {("t", 0): 2, ("t", 1): 0}
    assert lag(end, {("t", 0): None}, beginning) == 8 + 4


def test_an_offset_below_the_retained_beginning_counts_from_the_beginning() -> None:
    assert lag({("t", 0): 10}, {("t", 0): 1}, {("t", 0): 6}) == 4


def test_a_consumer_ahead_of_the_end_has_no_negative_lag() -> None:
    assert lag({("t", 0): 3}, {("t", 0): 5}, {}) == 0


@pytest.mark.integration
async def test_a_group_lags_by_the_records_past_its_commit_and_an_unknown_topic_has_no_lag(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    topic, group = f"t{unique_name}.lagging", f"g{unique_name}"
    await create_topics(kafka, [TopicSpec(topic, 1)])
    producer = make_producer(kafka)
    try:
        await producer.start()
        for i in range(5):
            await producer.send_and_wait(topic, f"record {i}".encode())
    finally:
        await producer.stop()
    consumer = make_consumer(kafka, group, [topic])
    try:
        await consumer.start()
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await consumer.stop()

    lags = await read_group_lags(
        kafka_bootstrap, {group: [topic], f"other{unique_name}": [f"t{unique_name}.missing"]}
    )

    assert lags == {group: 3, f"other{unique_name}": None}


@pytest.mark.integration
async def test_the_projector_lag_is_unknown_while_the_event_log_does_not_exist(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        await migrate(conn)
    finally:
        await conn.close()

    lag = await read_projector_lag(
        kafka_bootstrap, pg_database, f"t{unique_name}.lecture-events", "timeline-projector"
    )

    assert lag is None
