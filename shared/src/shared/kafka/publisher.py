"""Producing records in two steps: hand them to the producer (their order is fixed from then
on), and later wait for the broker to acknowledge them.

Two steps, because a turn announces its attempt before the provider call without waiting for
that ack, yet the announcement must precede the outcome on the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Protocol

from aiokafka import AIOKafkaProducer

from shared.kafka.batching import BatchingSender
from shared.kafka.records import Outgoing

Acks = Awaitable[object]


class Publisher(Protocol):
    """Where a worker's and the dispatcher's records go."""

    async def enqueue(self, records: list[Outgoing]) -> Acks:
        """Hand `records` to the producer, in order; await the result for the broker's acks
        of all of them (it raises if any was refused)."""
        ...


async def publish(publisher: Publisher, records: list[Outgoing]) -> None:
    """Produce `records` and return once the broker acknowledged every one of them."""
    await (await publisher.enqueue(records))


class KafkaPublisher:
    """A `Publisher` over a started, idempotent, `acks="all"` producer (`make_producer`).

    What is enqueued in one pass of the event loop (and while the batches before it are
    handed over) goes to the producer as one batch per partition (`BatchingSender`), in the
    order it was enqueued: a busy worker hands over a few large batches instead of a
    `send` per record."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._sender = BatchingSender(producer)

    async def enqueue(self, records: list[Outgoing]) -> Acks:
        future: asyncio.Future[None] = self._sender.add(records)
        return future
