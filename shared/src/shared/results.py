"""The outcome of one generation attempt, the same shape for every medium."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.errors import GenerationError
from shared.media import MediaKind


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """Media written to blob storage."""

    blob_key: str
    content_type: str
    size_bytes: int
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class GenerationDebug:
    """What produced the media, kept with the asset for people and logs."""

    prompt: str
    model: str
    provider: str
    prediction_id: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationSucceeded:
    """The attempt produced stored media."""

    kind: MediaKind
    media: StoredMedia
    debug: GenerationDebug
    ok: Literal[True] = True


@dataclass(frozen=True, slots=True)
class GenerationFailed:
    """The attempt failed with a classified error."""

    kind: MediaKind
    error: GenerationError
    debug: GenerationDebug
    resume_prediction_id: str | None = None
    """Set when the prediction may still finish (the deadline cut our wait): the next attempt
    polls it instead of creating another, so a retry never pays twice."""
    waiting_since: datetime | None = None
    """Set when the attempt waited for its provider in an outage and failed while its circuit
    was still not closed: when the asset began waiting, for the retry to carry on."""
    ok: Literal[False] = False


GenerationResult = GenerationSucceeded | GenerationFailed
"""Discriminated on `ok`: `if result.ok:` narrows to success."""
