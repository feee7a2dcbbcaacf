"""The music medium: one background track for the whole lecture.

stable-audio-2.5 is an official model (no version id needed) and takes the length in whole
seconds, 1 to 190 (the registry's row): a longer lecture gets a 190 s track, which the player
loops or lets end.
"""

from __future__ import annotations

from shared.media import MediaKind
from shared.model_registry import DEFAULT_MODELS
from shared.providers import MediumSpec

MUSIC = MediumSpec(
    kind=MediaKind.MUSIC,
    default_model=DEFAULT_MODELS[MediaKind.MUSIC],
    content_types=frozenset({"audio/wav", "audio/mpeg", "audio/flac", "audio/ogg", "audio/mp4"}),
)
