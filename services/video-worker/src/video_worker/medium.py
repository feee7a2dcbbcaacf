"""The video medium: a short clip per segment. minimax/video-01 picks its own length (about
six seconds), so no duration is sent; the timeline sizes the clip to its segment."""

from __future__ import annotations

from shared.media import MediaKind
from shared.providers import MediumSpec

VIDEO = MediumSpec(
    kind=MediaKind.VIDEO,
    default_model="minimax/video-01",
    content_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
)
