"""How the model table reads over the API: model and version objects with an OpenAPI schema."""

from __future__ import annotations

from typing import Any

from replicate_sim.models import ModelSpec

CREATED_AT = "2025-01-01T00:00:00.000000Z"
COG_VERSION = "0.14.0"


def model_json(spec: ModelSpec, run_count: int = 0) -> dict[str, Any]:
    return {
        "url": f"https://replicate.com/{spec.ref}",
        "owner": spec.owner,
        "name": spec.name,
        "description": spec.description,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": run_count,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": version_json(spec),
    }


def version_json(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.version,
        "created_at": CREATED_AT,
        "cog_version": COG_VERSION,
        "openapi_schema": openapi_schema(spec),
    }


def openapi_schema(spec: ModelSpec) -> dict[str, Any]:
    """Enough of Cog's schema for a client to see the inputs and the output's shape."""
    uri = {"type": "string", "format": "uri"}
    output = {"type": "array", "items": uri} if spec.output_is_list else uri
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": {"Input": _input_schema(spec), "Output": output}},
    }


def _input_schema(spec: ModelSpec) -> dict[str, Any]:
    properties: dict[str, Any] = {spec.text_field: {"type": "string", "x-order": 0}}
    for key, choices in spec.choices.items():
        properties[key] = {"type": "string", "enum": list(choices)}
    for key, bounds in spec.bounds.items():
        properties[key] = {"type": "number", "minimum": bounds.low, "maximum": bounds.high}
    return {"type": "object", "required": [spec.text_field], "properties": properties}
