"""The model of each medium when a request names none: the API fills it into the command
(`LECTUREGEN_DEFAULT_MODEL_*` overrides it there) and a worker falls back to it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.media import MediaKind

DEFAULT_MODELS: Mapping[MediaKind, str] = MappingProxyType(
    {
        MediaKind.IMAGE: "black-forest-labs/flux-schnell",
        MediaKind.NARRATION: "minimax/speech-02-turbo",
        MediaKind.VIDEO: "minimax/video-01",
        MediaKind.MUSIC: "stability-ai/stable-audio-2.5",
    }
)
