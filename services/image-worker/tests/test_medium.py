from __future__ import annotations

from datetime import UTC, datetime

from image_worker.medium import IMAGE
from shared.events import GenerateAsset
from shared.media import MediaKind

KIND = MediaKind.IMAGE


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


def test_an_image_is_a_single_wide_png_of_the_prompt_by_default() -> None:
    assert IMAGE.build_input(command(prompt="a lighthouse at dusk")) == {
        "prompt": "a lighthouse at dusk",
        "aspect_ratio": "16:9",
        "output_format": "png",
        "num_outputs": 1,
    }
    assert IMAGE.model_for(command()) == "black-forest-labs/flux-schnell"


def test_params_and_model_of_the_asset_override_the_defaults() -> None:
    asset = command(model="black-forest-labs/flux-1.1-pro", params={"aspect_ratio": "1:1"})
    assert IMAGE.build_input(asset)["aspect_ratio"] == "1:1"
    assert IMAGE.model_for(asset) == "black-forest-labs/flux-1.1-pro"


def test_an_image_may_come_back_as_png_jpeg_or_webp() -> None:
    assert IMAGE.content_types == {"image/png", "image/jpeg", "image/webp"}


def test_num_outputs_goes_only_to_a_model_that_accepts_it() -> None:
    pro = IMAGE.build_input(command(model="black-forest-labs/flux-1.1-pro", prompt="a tower"))
    assert pro == {"prompt": "a tower", "aspect_ratio": "16:9", "output_format": "png"}
