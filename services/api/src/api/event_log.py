"""Appending events to the event log: one event per command, acknowledged by every in-sync
replica before the command is answered."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.envelope import Envelope, encode, envelop
from shared.events import AssetEvent, LectureCreated


class EventLogUnavailableError(Exception):
    """The broker did not acknowledge the event; it may or may not have been written."""


class EventLog:
    """The event log topic, keyed by lecture id."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, source: str) -> None:
        self._producer = producer
        self._topic = topic
        self._source = source

    def envelop(self, payload: LectureCreated | AssetEvent, correlation_id: str | None) -> Envelope:
        """A new envelope for `payload`: its id is known before it is appended."""
        return envelop(payload, self._source, correlation_id=correlation_id)

    async def append(self, envelope: Envelope) -> None:
        payload = envelope.payload
        assert isinstance(payload, LectureCreated | AssetEvent)
        value, headers = encode(envelope)
        try:
            await self._producer.send_and_wait(
                self._topic, value=value, key=payload.lecture_id.encode(), headers=headers
            )
        except KafkaError as exc:
            reason = f"event {envelope.id} not acknowledged: {exc!r}"
            raise EventLogUnavailableError(reason) from exc

    async def ping(self) -> None:
        """A real round trip to the brokers (readiness)."""
        await self._producer.client.fetch_all_metadata()
