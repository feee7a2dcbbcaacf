from __future__ import annotations

from datetime import UTC, datetime

from audio_worker.medium import NARRATION
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
        "voice_id": "Wise_Woman",
    }
    assert NARRATION.model_for(command()) == "minimax/speech-02-turbo"


def test_the_narrations_own_voice_wins_over_the_default() -> None:
    assert NARRATION.build_input(command(params={"voice_id": "Deep_Voice_Man"}))["voice_id"] == (
        "Deep_Voice_Man"
    )


def test_narration_sends_no_duration_the_length_follows_the_text() -> None:
    assert "duration" not in NARRATION.build_input(command(duration_s=12.0))


def test_kokoro_gets_its_voice_as_voice_never_voice_id() -> None:
    kokoro = "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
    built = NARRATION.build_input(command(model=kokoro, params={"voice_id": "af_sky"}))
    assert built == {"text": "PROMPT", "voice": "af_sky"}
    assert NARRATION.build_input(command(model=kokoro))["voice"] == "af_bella"


def test_an_unknown_narration_model_gets_its_text_and_params_unchanged() -> None:
    built = NARRATION.build_input(command(model="acme/tts", params={"style": "calm"}))
    assert built == {"text": "PROMPT", "style": "calm"}
