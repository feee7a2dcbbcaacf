"""What one medium asks of the provider: its default model, where the text goes for models
the registry does not know, and the media it accepts back.

Each media worker declares one `MediumSpec`; everything else about calling the provider is
shared. Inputs are built per model, not per medium: a model in the registry
(`shared.model_registry`) gets its own defaults, its own voice and duration fields and only
the params it accepts; a model without a row gets the prompt in `text_field` and the
asset's params, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.model_registry import is_pinned, schema_for


@dataclass(frozen=True, slots=True)
class MediumSpec:
    """How one kind of media is generated."""

    kind: MediaKind
    default_model: str
    """Used when the command names no model."""
    content_types: frozenset[str]
    """The media types an output may have; anything else is refused."""
    text_field: str = "prompt"
    """The input field the prompt (narration: the script text) goes into, for a model the
    registry does not know."""

    def model_for(self, command: GenerateAsset) -> str:
        """The command's model, or the medium's default when it names none."""
        return command.model.strip() or self.default_model

    def build_input(self, command: GenerateAsset) -> dict[str, Any]:
        """The provider input for this command's model."""
        model = self.model_for(command)
        schema = schema_for(model)
        if schema is None:
            return {**command.params, self.text_field: command.prompt}
        return schema.build_input(
            command.prompt, command.params, command.duration_s, pinned=is_pinned(model)
        )
