"""What one model accepts and answers: its text field, its inputs with their bounds, the
defaults lecturegen sends, and its output. Pure data plus two pure functions: `problems`
(what is wrong with a request, for the API's 422) and `build_input` (the provider input a
worker sends).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.media import MediaKind


class InputKind(StrEnum):
    """The JSON type an input takes."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One accepted input: its type and, where the model has them, its choices or bounds."""

    kind: InputKind
    choices: tuple[str | int, ...] = ()
    low: float | None = None
    high: float | None = None
    max_chars: int | None = None


def string(*choices: str, max_chars: int | None = None) -> InputSpec:
    return InputSpec(InputKind.STRING, choices=choices, max_chars=max_chars)


def integer(low: float | None = None, high: float | None = None, *choices: int) -> InputSpec:
    return InputSpec(InputKind.INTEGER, choices=choices, low=low, high=high)


def number(low: float | None = None, high: float | None = None) -> InputSpec:
    return InputSpec(InputKind.NUMBER, low=low, high=high)


def boolean() -> InputSpec:
    return InputSpec(InputKind.BOOLEAN)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """What a succeeded prediction answers."""

    is_list: bool
    """A list of files (flux-schnell) rather than one."""
    default_format: str
    """The file format the model answers when not asked for another (`webp`, `mp3`, ...)."""


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One thing wrong with a request: the field (`prompt`, `params.num_outputs`) and why."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ModelSchema:
    """One row of the registry: a model as lecturegen calls it."""

    ref: str
    """`owner/name`."""
    kind: MediaKind
    text_field: str
    """The input the prompt (narration: the script) goes into."""
    output: OutputSpec
    source: str
    """Where the schema was read (the model's page and API schema on replicate.com)."""
    max_text_chars: int | None = None
    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    """Every other input the model accepts; anything else is refused."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """What lecturegen sends unless the asset's params say otherwise."""
    voice_field: str | None = None
    """Narration models: the input that names the voice (`voice_id`, `voice`)."""
    duration_field: str | None = None
    """Models that take a length in seconds: the input that takes it."""
    duration_range: tuple[int, int] | None = None
    """The lengths the model's current version accepts; a wanted length is clamped into it."""
    pinned_duration_range: tuple[int, int] | None = None
    """The lengths every known version accepts, for a reference pinned to a version id
    (`owner/name:version`) whose bound may be older than the current one."""

    def problems(self, prompt: str, params: Mapping[str, Any]) -> list[InputProblem]:
        """What keeps `prompt` and `params` from being a valid input for this model."""
        found: list[InputProblem] = []
        if self.max_text_chars is not None and len(prompt) > self.max_text_chars:
            found.append(
                InputProblem(
                    "prompt",
                    f"{self.ref} takes at most {self.max_text_chars} characters in "
                    f"{self.text_field!r} ({len(prompt)} given)",
                )
            )
        for name, value in params.items():
            message = self._param_problem(name, value)
            if message is not None:
                found.append(InputProblem(f"params.{name}", message))
        return found

    def build_input(
        self, prompt: str, params: Mapping[str, Any], duration_s: float | None, pinned: bool
    ) -> dict[str, Any]:
        """The provider input, in layers (later wins): the defaults, the wanted length, the
        params the model accepts (a `voice_id` param goes to the model's own voice field),
        and last the prompt in the model's text field. `pinned`: the reference names a
        version id."""
        payload: dict[str, Any] = dict(self.defaults)
        wanted_range = self.pinned_duration_range if pinned else None
        if self.duration_field and duration_s is not None:
            payload[self.duration_field] = whole_seconds(
                duration_s, wanted_range or self.duration_range
            )
        for name, value in params.items():
            name = self._own_name(name)
            if name in self.inputs:
                payload[name] = value
        payload[self.text_field] = prompt
        return payload

    def _own_name(self, name: str) -> str:
        # a narration's voice travels as `voice_id` in events written before the registry
        voices = {"voice_id", "voice"}
        return self.voice_field if name in voices and self.voice_field else name

    def _param_problem(self, name: str, value: object) -> str | None:
        spec = self.inputs.get(self._own_name(name))
        if name == self.text_field:
            return f"the text goes in the prompt, not in {name!r}"
        if spec is None:
            accepted = ", ".join(sorted(self.inputs)) or "none"
            return f"{self.ref} does not accept {name!r} (it accepts: {accepted})"
        return _value_problem(spec, value)


def whole_seconds(seconds: float, bounds: tuple[int, int] | None) -> int:
    """Models take whole seconds: round up (never shorter than asked), then clamp."""
    whole = max(1, math.ceil(seconds))
    if bounds is None:
        return whole
    low, high = bounds
    return min(max(whole, low), high)


def _value_problem(spec: InputSpec, value: object) -> str | None:
    if not _has_kind(spec.kind, value):
        return f"must be a {spec.kind.value}"
    if spec.choices and value not in spec.choices:
        listed = ", ".join(repr(choice) for choice in spec.choices)
        return f"must be one of {listed}"
    if isinstance(value, str) and spec.max_chars is not None and len(value) > spec.max_chars:
        return f"must be at most {spec.max_chars} characters"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.low is not None and value < spec.low:
            return f"must be at least {spec.low:g}"
        if spec.high is not None and value > spec.high:
            return f"must be at most {spec.high:g}"
    return None


def _has_kind(kind: InputKind, value: object) -> bool:
    if kind is InputKind.BOOLEAN:
        return isinstance(value, bool)
    if kind is InputKind.STRING:
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    if kind is InputKind.INTEGER:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, int | float) and math.isfinite(value)
