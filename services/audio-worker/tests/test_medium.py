from __future__ import annotations

from datetime import UTC, datetime

from audio_worker.medium import DEFAULT_VOICE, NARRATION
from shared.events import GenerateAsset
from shared.media import MediaKind

KIND = MediaKind.NARRATION


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


def test_narration_sends_the_script_as_text_with_the_default_voice() -> None:
    assert NARRATION.build_input(command(prompt="Welcome to the course.")) == {
        "text": "Welcome to the course.",
        "voice_id": DEFAULT_VOICE,
    }
    assert NARRATION.model_for(command()) == "minimax/speech-02-turbo"


def test_the_narrations_own_voice_wins_over_the_default() -> None:
    assert NARRATION.build_input(command(params={"voice_id": "Deep_Voice_Man"}))["voice_id"] == (
        "Deep_Voice_Man"
    )


def test_narration_sends_no_duration_the_length_follows_the_text() -> None:
    assert "duration" not in NARRATION.build_input(command(duration_s=12.0))
