"""The video medium: a short clip per segment. minimax/video-01 picks its own length (about
six seconds), so no duration is sent; the timeline sizes the clip to its segment."""

from __future__ import annotations

from shared.media import MediaKind
from shared.model_registry import DEFAULT_MODELS
from shared.providers import MediumSpec

VIDEO = MediumSpec(
    kind=MediaKind.VIDEO,
    default_model=DEFAULT_MODELS[MediaKind.VIDEO],
    content_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
)
