"""The model registry: one row per model lecturegen knows (`rows.py`), read by the API to
refuse a request that breaks a model's schema before anything is written, and by the workers
to build each model's own input. A model without a row is passed through: its prompt goes in
the medium's text field and its params are sent unchanged."""

from __future__ import annotations

from shared.model_registry.defaults import DEFAULT_MODELS
from shared.model_registry.rows import ROWS
from shared.model_registry.schema import (
    InputKind,
    InputProblem,
    InputSpec,
    ModelSchema,
    OutputSpec,
    whole_seconds,
)

REGISTRY: dict[str, ModelSchema] = {row.ref: row for row in ROWS}


def schema_for(model: str) -> ModelSchema | None:
    """The row of `owner/name` or `owner/name:version`, or None for a model we do not know."""
    return REGISTRY.get(model.strip().split(":", 1)[0])


def is_pinned(model: str) -> bool:
    """Whether the reference names a version id (`owner/name:version`)."""
    return ":" in model


__all__ = [
    "DEFAULT_MODELS",
    "REGISTRY",
    "InputKind",
    "InputProblem",
    "InputSpec",
    "ModelSchema",
    "OutputSpec",
    "is_pinned",
    "schema_for",
    "whole_seconds",
]
