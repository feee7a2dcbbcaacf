from __future__ import annotations

from datetime import UTC, datetime

from shared.events import GenerateAsset
from shared.media import MediaKind
from video_worker.medium import VIDEO

KIND = MediaKind.VIDEO


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


def test_a_clip_is_asked_for_with_the_prompt_optimizer_on() -> None:
    assert VIDEO.build_input(command(prompt="waves on a shore")) == {
        "prompt": "waves on a shore",
        "prompt_optimizer": True,
    }
    assert VIDEO.model_for(command()) == "minimax/video-01"


def test_the_segment_length_is_not_sent_to_a_model_that_takes_none() -> None:
    assert "duration" not in VIDEO.build_input(command(duration_s=8.0))


def test_params_can_turn_the_optimizer_off() -> None:
    assert (
        VIDEO.build_input(command(params={"prompt_optimizer": False}))["prompt_optimizer"] is False
    )


def test_only_minimax_video_gets_the_prompt_optimizer() -> None:
    built = VIDEO.build_input(command(model="google/veo-3", prompt="waves"))
    assert built == {"prompt": "waves"}
