"""What one medium asks of the provider: its default model, its input, the media it expects.

Each media worker declares one `MediumSpec`; everything else about calling the provider is
shared. Inputs are built in layers, later ones winning: the medium's `defaults`, the asset's
duration (for models that take one), the asset's `params`, and last the prompt or narration
text itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.events import GenerateAsset
from shared.media import MediaKind


@dataclass(frozen=True, slots=True)
class MediumSpec:
    """How one kind of media is generated."""

    kind: MediaKind
    default_model: str
    """Used when the command names no model."""
    content_types: frozenset[str]
    """The media types an output may have; anything else is refused."""
    text_field: str = "prompt"
    """The input field the prompt (narration: the script text) goes into."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    duration_field: str | None = None
    """The input field that takes the wanted length in seconds, for models that take one."""
    duration_range: tuple[float, float] | None = None
    """The model's accepted lengths; a wanted length outside is clamped into it."""

    def model_for(self, command: GenerateAsset) -> str:
        """The command's model, or the medium's default when it names none."""
        return command.model.strip() or self.default_model

    def build_input(self, command: GenerateAsset) -> dict[str, Any]:
        """The provider input for this command."""
        payload: dict[str, Any] = dict(self.defaults)
        if self.duration_field and command.duration_s is not None:
            payload[self.duration_field] = self._duration(command.duration_s)
        payload.update(command.params)
        payload[self.text_field] = command.prompt
        return payload

    def _duration(self, seconds: float) -> int:
        # Models take whole seconds; round up so the media is never shorter than asked.
        whole = max(1, math.ceil(seconds))
        if self.duration_range is None:
            return whole
        low, high = self.duration_range
        return int(min(max(whole, low), high))
