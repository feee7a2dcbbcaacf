from __future__ import annotations

import pytest

from shared.providers.model_ref import ModelRef


def test_an_official_model_is_named_without_a_version() -> None:
    ref = ModelRef.parse("black-forest-labs/flux-schnell")
    assert (ref.owner, ref.name, ref.version) == ("black-forest-labs", "flux-schnell", None)
    assert str(ref) == ref.model == "black-forest-labs/flux-schnell"


def test_a_community_model_carries_its_version_id() -> None:
    ref = ModelRef.parse("meta/musicgen:671ac645ce5e552cc63a54a2bbff63fc")
    assert (ref.model, ref.version) == ("meta/musicgen", "671ac645ce5e552cc63a54a2bbff63fc")
    assert str(ref) == "meta/musicgen:671ac645ce5e552cc63a54a2bbff63fc"


def test_stable_audio_with_a_dot_in_its_name_parses() -> None:
    assert ModelRef.parse("stability-ai/stable-audio-2.5").name == "stable-audio-2.5"


@pytest.mark.parametrize(
    "ref", ["", "flux", "a/b/c", "/flux", "owner/", "owner/name:", "owner/na me", "../x/y"]
)
def test_anything_else_is_not_a_model_reference(ref: str) -> None:
    with pytest.raises(ValueError, match="not a model reference"):
        ModelRef.parse(ref)
