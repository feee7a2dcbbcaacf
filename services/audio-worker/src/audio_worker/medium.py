"""The narration medium: the segment's script spoken by a text-to-speech model.

The voice goes to the model's own field (`voice_id` for minimax speech, `voice` for kokoro)
and defaults to that model's row in the registry."""

from __future__ import annotations

from shared.media import MediaKind
from shared.model_registry import DEFAULT_MODELS
from shared.providers import MediumSpec

NARRATION = MediumSpec(
    kind=MediaKind.NARRATION,
    default_model=DEFAULT_MODELS[MediaKind.NARRATION],
    text_field="text",
    content_types=frozenset({"audio/mpeg", "audio/wav", "audio/flac", "audio/ogg"}),
)
