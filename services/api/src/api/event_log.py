"""Appending events to the event log: one event per command, acknowledged by every in-sync
replica before the command is answered."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from shared.envelope import Envelope, encode, envelop
from shared.events import AssetEvent, LectureCreated

COMPRESSION = "gzip"
"""Events are JSON text: compressed batches cost a fraction of the disk the log keeps forever."""


class EventLogUnavailableError(Exception):
    """The broker did not acknowledge the event; it may or may not have been written."""


class EventTooLargeError(Exception):
    """The event is larger than the event log takes; no retry can change that."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the event is {size} bytes; the event log takes at most {limit}")
        self.size = size
        self.limit = limit


def appendable_bytes(max_message_bytes: int) -> int:
    """The largest uncompressed record that surely fits a topic of `max_message_bytes`:
    compression can add a little to text it cannot shrink, so keep a margin for it."""
    return max_message_bytes - max_message_bytes // 256 - 1024


class EventLogWriter:
    """Appends to the event log topic, keyed by lecture id."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, source: str, *, max_bytes: int
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._source = source
        self.max_bytes = max_bytes

    def envelop(self, payload: LectureCreated | AssetEvent, correlation_id: str | None) -> Envelope:
        """A new envelope for `payload`: its id is known before it is appended."""
        return envelop(payload, self._source, correlation_id=correlation_id)

    async def append(self, envelope: Envelope) -> None:
        """Append and wait for the acknowledgement; `EventTooLargeError` before sending
        anything the topic would refuse."""
        payload = envelope.payload
        assert isinstance(payload, LectureCreated | AssetEvent)
        value, headers = encode(envelope)
        key = payload.lecture_id.encode()
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        if size > self.max_bytes:
            raise EventTooLargeError(size, self.max_bytes)
        try:
            await self._producer.send_and_wait(self._topic, value=value, key=key, headers=headers)
        except MessageSizeTooLargeError as exc:  # the topic's limit was lowered meanwhile
            raise EventTooLargeError(size, self.max_bytes) from exc
        except KafkaError as exc:
            reason = f"event {envelope.id} not acknowledged: {exc!r}"
            raise EventLogUnavailableError(reason) from exc

    async def ping(self) -> None:
        """A real round trip to the brokers (readiness)."""
        await self._producer.client.fetch_all_metadata()
