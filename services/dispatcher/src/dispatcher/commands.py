"""From an event to the commands it asks for: pure, so the whole mapping is unit-tested.

`lecture.created` asks for every planned asset at prompt version 1; `asset.regeneration-
requested` for one asset at its new version. A command's id, and so its CloudEvents id, is
derived from the event id and the asset id: dispatching an event twice gives the same records
twice, which the workers recognise.
"""

from __future__ import annotations

from shared import topics
from shared.envelope import Envelope, encode, subject_of
from shared.events import (
    AssetRegenerationRequested,
    GenerateAsset,
    LectureCreated,
)
from shared.ids import derived_id
from shared.kafka.records import Outgoing

SOURCE = "lecturegen/dispatcher"
WANTED_TYPES = frozenset({LectureCreated.TYPE, AssetRegenerationRequested.TYPE})
"""The only event types the dispatcher reads; it skips the rest without decoding them."""


def commands_for(event: Envelope) -> list[GenerateAsset]:
    """The commands `event` asks for (none for any other kind of event)."""
    payload = event.payload
    correlation_id = event.correlation_id or event.id
    if isinstance(payload, LectureCreated):
        return [
            GenerateAsset(
                command_id=derived_id(event.id, asset.asset_id),
                lecture_id=payload.lecture_id,
                asset_id=asset.asset_id,
                kind=asset.kind,
                segment_id=asset.segment_id,
                prompt_version=1,
                prompt=asset.prompt,
                model=asset.model,
                params=asset.params,
                duration_s=asset.duration_s,
                requested_at=event.time,
                correlation_id=correlation_id,
            )
            for asset in payload.assets
        ]
    if isinstance(payload, AssetRegenerationRequested):
        return [
            GenerateAsset(
                command_id=derived_id(event.id, payload.asset_id),
                lecture_id=payload.lecture_id,
                asset_id=payload.asset_id,
                kind=payload.kind,
                segment_id=payload.segment_id,
                prompt_version=payload.prompt_version,
                prompt=payload.prompt,
                model=payload.model,
                params=payload.params,
                duration_s=payload.duration_s,
                requested_at=event.time,
                correlation_id=payload.correlation_id or correlation_id,
            )
        ]
    return []


def command_records(event: Envelope, namespace: str = "") -> list[Outgoing]:
    """The request-topic records of the commands `event` asks for, keyed by asset id."""
    return [command_record(command, event, namespace) for command in commands_for(event)]


def command_record(command: GenerateAsset, event: Envelope, namespace: str = "") -> Outgoing:
    """The request-topic record of `command`, which `event` asked for, keyed by asset id."""
    value, headers = encode(
        Envelope(
            payload=command,
            source=SOURCE,
            id=command.command_id,
            time=event.time,
            subject=subject_of(command),
            correlation_id=command.correlation_id,
        )
    )
    return Outgoing(
        topics.requests(command.kind, namespace), command.asset_id.encode(), value, headers
    )
