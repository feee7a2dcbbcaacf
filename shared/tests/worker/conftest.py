"""Builders of commands and consumed records for the worker runtime's unit tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import topics
from shared.envelope import encode, envelop
from shared.events import GenerateAsset
from shared.kafka.records import Outgoing, Record
from shared.media import MediaKind

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

CommandFactory = Callable[..., GenerateAsset]
RecordFactory = Callable[..., Record]


@pytest.fixture
def command() -> CommandFactory:
    def build(asset_id: str = "a1", prompt: str = "a red fox", **fields: Any) -> GenerateAsset:
        values: dict[str, Any] = {
            "command_id": f"c-{asset_id}",
            "lecture_id": "l1",
            "asset_id": asset_id,
            "kind": MediaKind.IMAGE,
            "segment_id": "s1",
            "prompt_version": 1,
            "prompt": prompt,
            "model": "acme/painter",
            "requested_at": T0,
            "correlation_id": "corr-1",
        }
        values.update(fields)
        return GenerateAsset(**values)

    return build


@pytest.fixture
def request_record() -> RecordFactory:
    def build(command: GenerateAsset, offset: int = 0, partition: int = 0) -> Record:
        value, headers = encode(envelop(command, "test", correlation_id=command.correlation_id))
        return Record(
            topic=topics.requests(command.kind),
            partition=partition,
            offset=offset,
            timestamp_ms=int(T0.timestamp() * 1000),
            key=command.asset_id.encode(),
            value=value,
            headers=headers,
        )

    return build


def consumed(out: Outgoing, offset: int = 0, at: datetime = T0, partition: int = 0) -> Record:
    """The record a consumer would read back after `out` was written at `at`."""
    return Record(
        topic=out.topic,
        partition=partition,
        offset=offset,
        timestamp_ms=int(at.timestamp() * 1000),
        key=out.key,
        value=out.value,
        headers=list(out.headers),
    )


@pytest.fixture
def read_back() -> Callable[..., Record]:
    return consumed
