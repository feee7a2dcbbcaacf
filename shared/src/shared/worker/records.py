"""The Kafka records the worker runtime reads and writes, as plain data (no Kafka client)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.envelope import Headers, header
from shared.headers import ORIGINAL_OFFSET, ORIGINAL_PARTITION, ORIGINAL_TOPIC


@dataclass(frozen=True, slots=True)
class Inbound:
    """One consumed record: where it sits, when it was written, and its bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @classmethod
    def of(cls, record: Any) -> Inbound:
        """From a consumed record (aiokafka's `ConsumerRecord` or anything shaped like it)."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
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


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


def dump_plan(plan: list[Outgoing]) -> str:
    """A plan as JSON text, so it can be stored and sent again byte for byte."""
    return json.dumps(
        [
            {
                "topic": o.topic,
                "key": _b64(o.key),
                "value": _b64(o.value),
                "headers": [[name, _b64(value)] for name, value in o.headers],
            }
            for o in plan
        ]
    )


def load_plan(text: str) -> list[Outgoing]:
    """The plan `dump_plan` wrote."""
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
    return base64.b64encode(data).decode("ascii")
