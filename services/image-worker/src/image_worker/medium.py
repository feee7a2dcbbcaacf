"""The image medium: one still per segment for the visual track, 16:9 PNG by default."""

from __future__ import annotations

from shared.media import MediaKind
from shared.providers import MediumSpec

IMAGE = MediumSpec(
    kind=MediaKind.IMAGE,
    default_model="black-forest-labs/flux-schnell",
    content_types=frozenset({"image/png", "image/jpeg", "image/webp"}),
    defaults={"aspect_ratio": "16:9", "output_format": "png", "num_outputs": 1},
)
