from __future__ import annotations

from datetime import UTC, datetime

from music_worker.medium import MUSIC
from shared.events import GenerateAsset
from shared.media import MediaKind

KIND = MediaKind.MUSIC


def command(**fields: object) -> GenerateAsset:
    base: dict[str, object] = {
        "command_id": "c1",
        "lecture_id": "l1",
        "asset_id": "a1",
        "kind": KIND,
        "prompt_version": 1,
        "prompt": "PROMPT",
        "model": "",
        "requested_at": datetime(2026, 1, 1, tzinfo=UTC),
        "correlation_id": "k1",
    }
    return GenerateAsset.model_validate({**base, **fields})


def test_music_asks_for_the_lectures_length_in_whole_seconds_rounded_up() -> None:
    assert MUSIC.build_input(command(prompt="calm piano", duration_s=42.2)) == {
        "prompt": "calm piano",
        "duration": 43,
    }
    assert MUSIC.model_for(command()) == "stability-ai/stable-audio-2.5"


def test_a_lecture_longer_than_the_model_allows_gets_the_longest_track() -> None:
    assert MUSIC.build_input(command(duration_s=600.0))["duration"] == 190


def test_without_a_wanted_length_the_model_picks_its_own() -> None:
    assert "duration" not in MUSIC.build_input(command())


def test_an_explicit_duration_param_wins() -> None:
    assert MUSIC.build_input(command(duration_s=30.0, params={"duration": 10}))["duration"] == 10


def test_a_stable_audio_reference_pinned_to_a_version_is_held_to_180_seconds() -> None:
    pinned = command(model="stability-ai/stable-audio-2.5:0123abcd", duration_s=600.0)
    assert MUSIC.build_input(pinned)["duration"] == 180


def test_musicgen_gets_the_lectures_length_unclamped() -> None:
    musicgen = "meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
    assert MUSIC.build_input(command(model=musicgen, duration_s=240.5))["duration"] == 241
