"""Counts of create calls per exact input, so a test can prove how often an input was sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from replicate_sim.inputs import input_key, text_of


@dataclass
class InputCount:
    """The create calls seen for one exact input."""

    key: str
    text: str
    model: str
    input: dict[str, Any]
    creates: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "model": self.model,
            "input": self.input,
            "creates": self.creates,
        }


class CreateStats:
    """Every create call with a readable input is counted, whatever its answer was."""

    def __init__(self) -> None:
        self._counts: dict[str, InputCount] = {}

    def record(self, model: str, payload: Mapping[str, Any]) -> int:
        """Count one create call; return how many this exact input has had (1 for the first)."""
        key = input_key(payload)
        fresh = InputCount(key, text_of(payload), model, dict(payload))
        count = self._counts.setdefault(key, fresh)
        count.model = model
        count.creates += 1
        return count.creates

    def snapshot(self, contains: str | None = None) -> dict[str, Any]:
        """`{total_creates, inputs: {key: {...}}}`, only inputs whose text contains `contains`."""
        chosen = [c for c in self._counts.values() if contains is None or contains in c.text]
        return {
            "total_creates": sum(c.creates for c in chosen),
            "inputs": {c.key: c.to_json() for c in chosen},
        }

    def creates_for(self, model: str) -> int:
        """Create calls counted for one model (by the name it was last called with)."""
        return sum(c.creates for c in self._counts.values() if c.model == model)

    def reset(self) -> None:
        self._counts.clear()
