"""Which commands an event asks for, and the records they travel in."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatcher.commands import command_records, commands_for
from shared.envelope import Envelope, decode, envelop
from shared.events import (
    AssetGenerated,
    AssetPlan,
    AssetRegenerationRequested,
    GenerateAsset,
    LectureCreated,
    MediaRef,
    SegmentPlan,
)
from shared.ids import derived_id
from shared.media import MediaKind

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def _lecture() -> Envelope:
    created = LectureCreated(
        lecture_id="l1",
        title="Tides",
        duration_s=20,
        segments=(SegmentPlan(segment_id="s1", start_s=0, duration_s=20),),
        assets=(
            AssetPlan(
                asset_id="a-img",
                kind=MediaKind.IMAGE,
                segment_id="s1",
                prompt="moon",
                model="m/img",
                params={"seed": 3},
            ),
            AssetPlan(
                asset_id="a-nar",
                kind=MediaKind.NARRATION,
                segment_id="s1",
                prompt="The moon pulls.",
                model="m/tts",
            ),
            AssetPlan(
                asset_id="a-mus",
                kind=MediaKind.MUSIC,
                prompt="calm",
                model="m/music",
                duration_s=20,
            ),
        ),
    )
    return envelop(created, "lecturegen/api", correlation_id="req-1", now=T0)


def test_a_created_lecture_asks_for_each_of_its_assets_at_version_one() -> None:
    event = _lecture()

    commands = commands_for(event)

    assert [(c.asset_id, c.kind, c.prompt_version) for c in commands] == [
        ("a-img", MediaKind.IMAGE, 1),
        ("a-nar", MediaKind.NARRATION, 1),
        ("a-mus", MediaKind.MUSIC, 1),
    ]
    image = commands[0]
    assert (image.prompt, image.model, image.params, image.segment_id) == (
        "moon",
        "m/img",
        {"seed": 3},
        "s1",
    )
    assert commands[2].duration_s == 20
    assert all(c.correlation_id == "req-1" and c.requested_at == T0 for c in commands)
    assert image.command_id == derived_id(event.id, "a-img")


def test_dispatching_the_same_event_twice_gives_identical_records() -> None:
    event = _lecture()

    first, again = command_records(event, "ns."), command_records(event, "ns.")

    assert first == again
    assert [r.topic for r in first] == [
        "ns.lecturegen.image.requests.v1",
        "ns.lecturegen.narration.requests.v1",
        "ns.lecturegen.music.requests.v1",
    ]
    assert [r.key for r in first] == [b"a-img", b"a-nar", b"a-mus"]
    decoded = decode(first[0].value, first[0].headers)
    assert isinstance(decoded.payload, GenerateAsset)
    assert decoded.id == decoded.payload.command_id
    assert decoded.subject == "lectures/l1/assets/a-img"
    assert decoded.correlation_id == "req-1"


def test_a_regeneration_asks_for_one_asset_at_its_new_version() -> None:
    regen = AssetRegenerationRequested(
        lecture_id="l1",
        asset_id="a-img",
        kind=MediaKind.IMAGE,
        segment_id="s1",
        prompt_version=3,
        prompt="a brighter moon",
        model="m/img",
        correlation_id="req-9",
    )
    event = envelop(regen, "lecturegen/api", now=T0)

    (command,) = commands_for(event)

    assert (command.asset_id, command.prompt_version, command.prompt) == (
        "a-img",
        3,
        "a brighter moon",
    )
    assert command.correlation_id == "req-9"
    assert command.command_id == derived_id(event.id, "a-img")


def test_events_without_a_command_ask_for_nothing() -> None:
    generated = AssetGenerated(
        lecture_id="l1",
        asset_id="a-img",
        kind=MediaKind.IMAGE,
        prompt_version=1,
        media=MediaRef(blob_key="k", content_type="image/png", size_bytes=1),
        prompt="moon",
        model="m/img",
        attempts=1,
    )

    assert command_records(envelop(generated, "lecturegen/image-worker")) == []


def test_without_a_correlation_id_the_event_id_correlates_the_commands() -> None:
    event = envelop(_lecture().payload, "lecturegen/api")

    assert {c.correlation_id for c in commands_for(event)} == {event.id}
