"""Kafka records as plain data (no Kafka client): the one consumed record, the one record to
produce, and the header helpers both use.

Every service reads consumed records as `Record` (the worker, the dispatcher, the projector,
the test tails) and writes `Outgoing` ones; nothing else stands for a Kafka record.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

from shared.headers import ORIGINAL_OFFSET, ORIGINAL_PARTITION, ORIGINAL_TOPIC

Headers = list[tuple[str, bytes]]


def header(headers: Iterable[tuple[str, bytes]], name: str) -> str | None:
    """The last value of header `name`, decoded, or None."""
    found: bytes | None = None
    for key, value in headers:
        if key == name:
            found = value
    return None if found is None else found.decode("utf-8", errors="replace")


def with_headers(base: Headers, updates: Mapping[str, str | None]) -> Headers:
    """`base` without the headers named in `updates`, then those of `updates` that have a value."""
    kept = [(name, value) for name, value in base if name not in updates]
    return kept + [(name, value.encode()) for name, value in updates.items() if value is not None]


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed record: where it sits, when it was written, and its bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @classmethod
    def of(cls, record: Any) -> Record:
        """From a consumed record (aiokafka's `ConsumerRecord` or anything shaped like it)."""
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp,
            record.key,
            record.value,
            list(record.headers),
        )

    @property
    def written_at(self) -> datetime:
        """The record's timestamp (when the producer wrote it)."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def position(self) -> str:
        """`topic:partition:offset`, the record's identity in the log."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def origin(self) -> tuple[str, int, int]:
        """Where the request first entered the system: the provenance headers a retry carries,
        or this record's own position when it has none (it is the original request)."""
        topic = self.header(ORIGINAL_TOPIC)
        partition = self.header(ORIGINAL_PARTITION)
        offset = self.header(ORIGINAL_OFFSET)
        if topic and partition and offset:
            try:
                return topic, int(partition), int(offset)
            except ValueError:
                pass  # damaged provenance: this record is the best origin we know
        return self.topic, self.partition, self.offset

    def provenance(self) -> dict[str, str | None]:
        """The provenance headers a copy of this record carries (its `origin`)."""
        topic, partition, offset = self.origin()
        return {
            ORIGINAL_TOPIC: topic,
            ORIGINAL_PARTITION: str(partition),
            ORIGINAL_OFFSET: str(offset),
        }


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


def dump_records(records: list[Outgoing]) -> str:
    """Records to produce as JSON text, so they can be stored and sent again byte for byte.
    (Written by pydantic-core's encoder, which every event's payload goes through already:
    a worker saves its outcome records on every turn.)"""
    return to_json(
        [
            {
                "topic": o.topic,
                "key": _b64(o.key),
                "value": _b64(o.value),
                "headers": [[name, _b64(value)] for name, value in o.headers],
            }
            for o in records
        ]
    ).decode()


def load_records(text: str) -> list[Outgoing]:
    """The records `dump_records` wrote."""
    items: list[dict[str, Any]] = json.loads(text)
    return [
        Outgoing(
            topic=item["topic"],
            key=base64.b64decode(item["key"]),
            value=base64.b64decode(item["value"]),
            headers=[(name, base64.b64decode(value)) for name, value in item["headers"]],
        )
        for item in items
    ]


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")
