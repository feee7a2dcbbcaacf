"""aiokafka's records about an unreachable broker become one outage; others pass."""

from __future__ import annotations

import logging

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import NodeNotReadyError, NotLeaderForPartitionError

from shared.kafka_logs import KafkaLogFilter, install
from shared.outages import Outage


def _record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_connection_errors_are_dropped_and_reported_to_the_outage() -> None:
    watch = Outage("kafka", confirm_after_s=0)
    keep = KafkaLogFilter(watch).filter
    refused = ConnectionRefusedError(111, "Connect call failed")

    assert not keep(
        _record("aiokafka", logging.ERROR, "Unable connect to node with id %s: %s", 1, refused)
    )
    assert not keep(_record("aiokafka", logging.ERROR, "Unable to update metadata from %s", 1))
    assert not keep(
        _record(
            "aiokafka.consumer.fetcher",
            logging.ERROR,
            "Failed fetch messages from %s: %s",
            1,
            NodeNotReadyError("not ready"),
        )
    )
    assert watch.down


def test_other_records_pass_untouched() -> None:
    keep = KafkaLogFilter(Outage("kafka")).filter
    assert keep(_record("aiokafka.consumer", logging.WARNING, "Topic %s is not available", "t"))
    assert keep(_record("shared.worker", logging.ERROR, "Unable to update metadata from %s", 1))
    assert keep(_record("aiokafka", logging.INFO, "something else"))


async def test_a_new_connection_to_the_broker_ends_the_outage(kafka_bootstrap: str) -> None:
    watch = Outage("kafka", confirm_after_s=0)
    install(logging.NullHandler(), watch)
    watch.failed("refused")
    client = AIOKafkaClient(bootstrap_servers=kafka_bootstrap)
    try:
        await client.bootstrap()
    finally:
        await client.close()
    assert not watch.down


def test_a_leader_not_ready_yet_is_a_warning_and_no_outage() -> None:
    watch = Outage("kafka", confirm_after_s=0)
    record = _record(
        "aiokafka.consumer.fetcher",
        logging.ERROR,
        "Failed fetch offsets from %s: %s",
        1,
        NotLeaderForPartitionError("TopicPartition(topic='t', partition=1)"),
    )

    assert KafkaLogFilter(watch).filter(record)
    assert (record.levelno, record.levelname) == (logging.WARNING, "WARNING")
    assert not watch.down
