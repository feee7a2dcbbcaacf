"""Reading a create request's body and checking its input against the model, as Replicate does:
every rejection is a 422 "Input validation failed" that names the field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from replicate_sim import problems
from replicate_sim.models import ModelSpec
from replicate_sim.problems import Problem, ProblemError


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a create request, or a 422 naming what is wrong with it."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise ProblemError(problems.invalid_input("body", "is not valid JSON", "json")) from exc
    if not isinstance(body, dict):
        raise ProblemError(problems.invalid_input("body", "must be a JSON object", "invalid_type"))
    return body


def input_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's `input` object."""
    payload = body.get("input")
    if payload is None:
        raise ProblemError(problems.invalid_input("input", "is required", "required"))
    if not isinstance(payload, dict):
        raise ProblemError(problems.invalid_input("input", "must be an object", "invalid_type"))
    return payload


def check_input(spec: ModelSpec, payload: Mapping[str, Any]) -> Problem | None:
    """The first thing wrong with `payload` for this model, or None."""
    return (
        _check_text(spec, payload)
        or next(filter(None, (_check_choice(spec, k, payload) for k in spec.choices)), None)
        or next(filter(None, (_check_bounds(spec, k, payload) for k in spec.bounds)), None)
    )


def _check_text(spec: ModelSpec, payload: Mapping[str, Any]) -> Problem | None:
    path = f"input.{spec.text_field}"
    text = payload.get(spec.text_field)
    if text is None:
        return problems.invalid_input(path, "is required", "required")
    if not isinstance(text, str):
        return problems.invalid_input(path, "must be a string", "invalid_type")
    if not text.strip():
        return problems.invalid_input(path, "must not be empty", "string_gte")
    if len(text) > spec.max_text_chars:
        limit = f"must be at most {spec.max_text_chars} characters"
        return problems.invalid_input(path, limit, "string_lte")
    return None


def _check_choice(spec: ModelSpec, key: str, payload: Mapping[str, Any]) -> Problem | None:
    choices = spec.choices[key]
    if key not in payload or payload[key] in choices:
        return None
    listed = ", ".join(f'"{choice}"' for choice in choices)
    return problems.invalid_input(f"input.{key}", f"must be one of the following: {listed}", "enum")


def _check_bounds(spec: ModelSpec, key: str, payload: Mapping[str, Any]) -> Problem | None:
    if payload.get(key) is None:
        return None
    value, bounds, path = payload[key], spec.bounds[key], f"input.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return problems.invalid_input(path, "must be a number", "invalid_type")
    if value < bounds.low:
        return problems.invalid_input(path, f"must be greater than or equal to {bounds.low:g}")
    if value > bounds.high:
        return problems.invalid_input(path, f"must be less than or equal to {bounds.high:g}")
    return None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value
