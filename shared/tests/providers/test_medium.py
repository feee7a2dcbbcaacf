from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.providers import MediumSpec

SPEC = MediumSpec(
    kind=MediaKind.MUSIC,
    default_model="stability-ai/stable-audio-2.5",
    content_types=frozenset({"audio/wav"}),
)


def command(**fields: Any) -> GenerateAsset:
    return GenerateAsset(
        command_id="c1",
        lecture_id="l1",
        asset_id="a1",
        kind=MediaKind.MUSIC,
        prompt_version=1,
        prompt=fields.pop("prompt", "a tune"),
        model=fields.pop("model", ""),
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
        correlation_id="k1",
        **fields,
    )


def test_inputs_layer_defaults_then_duration_then_params_then_the_prompt() -> None:
    built = SPEC.build_input(command(duration_s=20, params={"steps": 4, "prompt": "sneaky"}))
    assert built == {"steps": 4, "duration": 20, "prompt": "a tune"}


@pytest.mark.parametrize(
    ("wanted", "sent"), [(0.2, 1), (1.0, 1), (7.01, 8), (190, 190), (900, 190)]
)
def test_a_wanted_length_is_rounded_up_and_kept_in_the_models_range(
    wanted: float, sent: int
) -> None:
    assert SPEC.build_input(command(duration_s=wanted))["duration"] == sent


def test_params_a_known_model_does_not_accept_are_not_sent() -> None:
    assert SPEC.build_input(command(params={"voice_id": "x", "num_outputs": 2})) == {
        "prompt": "a tune"
    }


def test_an_unknown_model_gets_the_prompt_in_the_text_field_and_its_params_unchanged() -> None:
    built = SPEC.build_input(command(model="acme/new-model", params={"anything": [1, 2]}))
    assert built == {"anything": [1, 2], "prompt": "a tune"}


def test_a_blank_model_means_the_default_one() -> None:
    assert SPEC.model_for(command(model="  ")) == "stability-ai/stable-audio-2.5"
    assert SPEC.model_for(command(model="other/model")) == "other/model"
