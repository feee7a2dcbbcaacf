"""A request checked against the model registry before anything is written: pure, no I/O.

Each asset's prompt and params must fit its model's row (`shared.model_registry`): the
prompt within the model's text limit, every param one the model accepts, of its type and
within its bounds. A model without a row is not checked beyond the API's own limits: its
prompt and params go to it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from api.problems import FieldError
from api.schemas import CreateLectureRequest, SegmentRequest
from api.settings import DefaultModels
from shared.model_registry import schema_for

LEGACY_VOICE_PARAM = "voice_id"
"""Where a narration's voice goes for a model the registry does not know."""


def voice_param(model: str) -> str:
    """The input that names a narration's voice for `model`."""
    schema = schema_for(model)
    return schema.voice_field if schema and schema.voice_field else LEGACY_VOICE_PARAM


def input_errors(
    path: str, model: str, prompt: str, params: Mapping[str, Any], *, prompt_field: str = "prompt"
) -> list[FieldError]:
    """What breaks `model`'s schema, each named by its place in the request (`path`)."""
    schema = schema_for(model)
    if schema is None:
        return []
    return [
        FieldError(
            field=_field(path, prompt_field if problem.field == "prompt" else problem.field),
            message=problem.message if model in problem.message else f"{problem.message} ({model})",
        )
        for problem in schema.problems(prompt, params)
    ]


def lecture_input_errors(request: CreateLectureRequest, models: DefaultModels) -> list[FieldError]:
    """Every asset of the lecture checked against its model."""
    errors: list[FieldError] = []
    for index, segment in enumerate(request.segments):
        errors.extend(_segment_errors(f"segments.{index}", segment, models))
    if request.music is not None:
        music = request.music
        errors.extend(input_errors("music", music.model or models.music, music.prompt, {}))
    return errors


def _segment_errors(
    path: str, segment: SegmentRequest, models: DefaultModels
) -> Iterator[FieldError]:
    if segment.image is not None:
        image = segment.image
        yield from input_errors(
            f"{path}.image", image.model or models.image, image.prompt, image.params
        )
    if segment.narration is not None:
        narration = segment.narration
        model = narration.model or models.narration
        errors = input_errors(
            f"{path}.narration",
            model,
            narration.text,
            {voice_param(model): narration.voice} if narration.voice else {},
            prompt_field="text",
        )
        yield from (_voice_named(error, model) for error in errors)
    if segment.video is not None:
        video = segment.video
        yield from input_errors(
            f"{path}.video", video.model or models.video, video.prompt, video.params
        )


def _voice_named(error: FieldError, model: str) -> FieldError:
    # the request names the voice `voice`, whatever the model calls it
    suffix = f".params.{voice_param(model)}"
    if error.field.endswith(suffix):
        return FieldError(field=error.field.removesuffix(suffix) + ".voice", message=error.message)
    return error


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
