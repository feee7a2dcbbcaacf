"""Identity of a prediction input: its canonical JSON, a stable key, and its readable text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

TEXT_FIELDS = ("prompt", "text")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The same JSON for the same input, whatever the order of its keys."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_key(payload: Mapping[str, Any]) -> str:
    """A stable hash of the input: "this exact input" for fault counts, stats and media."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def text_of(payload: Mapping[str, Any]) -> str:
    """The prompt or narration text of an input, or "" when it has none."""
    for name in TEXT_FIELDS:
        value = payload.get(name)
        if isinstance(value, str):
            return value
    return ""


def seed_of(payload: Mapping[str, Any]) -> int:
    """The input's own `seed` when it gives one, else a number drawn from the input itself."""
    seed = payload.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return int(input_key(payload)[:12], 16)
