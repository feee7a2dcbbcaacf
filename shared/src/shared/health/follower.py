"""Follow the compacted health topic into a `CircuitBoard`, from its beginning.

A process that starts while a circuit is open must not call the provider before it knows:
`following` returns only once the topic was read up to where it ended when it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.envelope import decode
from shared.events import PayloadError, ProviderHealthChanged
from shared.health.board import CircuitBoard, CircuitView
from shared.kafka import TopicSettings, create_topics, make_reader, provider_health_topic
from shared.settings import KafkaSettings

log = logging.getLogger("shared.health")


@contextlib.asynccontextmanager
async def following(kafka: KafkaSettings, board: CircuitBoard) -> AsyncIterator[CircuitBoard]:
    """`board`, kept up to date from the health topic while the context is open."""
    ns = kafka.topic_namespace
    topic = topics.provider_health(ns)
    await create_topics(kafka, [provider_health_topic(ns, TopicSettings())])
    reader = make_reader(kafka, auto_offset_reset="earliest")
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or {0}]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        task = asyncio.create_task(_follow(reader, board, ends), name="provider-health-follower")
        try:
            await board.ready.wait()
            yield board
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await reader.stop()


async def snapshot(kafka: KafkaSettings, within_s: float = 10) -> dict[str, CircuitView]:
    """Every circuit as the health topic says now (empty when there is no such topic)."""
    topic = topics.provider_health(kafka.topic_namespace)
    reader = make_reader(kafka, auto_offset_reset="earliest")
    await reader.start()
    try:
        if topic not in await reader.topics():
            return {}
    finally:
        await reader.stop()
    board = CircuitBoard()
    async with asyncio.timeout(within_s), following(kafka, board):
        return board.views()


async def _follow(
    reader: AIOKafkaConsumer, board: CircuitBoard, ends: dict[TopicPartition, int]
) -> None:
    caught_up = {tp for tp, end in ends.items() if end == 0}
    if len(caught_up) == len(ends):
        board.ready.set()
    while True:
        batch = await reader.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                try:
                    change = decode(record.value, record.headers).payload
                except PayloadError as exc:
                    log.warning("unreadable health record: %s", exc.reason)
                    continue
                if isinstance(change, ProviderHealthChanged):
                    await board.apply(change)
        if not board.ready.is_set():
            for tp, end in ends.items():
                if await reader.position(tp) >= end:
                    caught_up.add(tp)
            if len(caught_up) == len(ends):
                board.ready.set()
