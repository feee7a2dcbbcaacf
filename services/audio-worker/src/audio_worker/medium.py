"""The narration medium: the segment's script spoken by a text-to-speech model."""

from __future__ import annotations

from shared.media import MediaKind
from shared.providers import MediumSpec

DEFAULT_VOICE = "Wise_Woman"
"""A minimax voice; a narration's own voice arrives as the `voice_id` param and wins."""

NARRATION = MediumSpec(
    kind=MediaKind.NARRATION,
    default_model="minimax/speech-02-turbo",
    text_field="text",
    content_types=frozenset({"audio/mpeg", "audio/wav", "audio/flac", "audio/ogg"}),
    defaults={"voice_id": DEFAULT_VOICE},
)
