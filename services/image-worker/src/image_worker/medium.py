"""The image medium: one still per segment for the visual track (16:9 PNG by default, as the
registry's rows of the image models say)."""

from __future__ import annotations

from shared.media import MediaKind
from shared.model_registry import DEFAULT_MODELS
from shared.providers import MediumSpec

IMAGE = MediumSpec(
    kind=MediaKind.IMAGE,
    default_model=DEFAULT_MODELS[MediaKind.IMAGE],
    content_types=frozenset({"image/png", "image/jpeg", "image/webp"}),
)
