"""Interfaces the services depend on; adapters implement them, tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.events import GenerateAsset
from shared.results import GenerationResult, StoredMedia


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at generating an asset version."""

    command: GenerateAsset
    number: int
    """1-based attempt number; retries are attempts 2 and up."""
    resume_prediction_id: str | None = None
    """A prediction an earlier attempt started but never saw finish: poll it, don't re-create."""
    on_created: Callable[[str], Awaitable[None]] | None = None
    """Awaited with the id of a prediction as soon as the provider has created it, before
    waiting for it to finish, so the caller can save the id and resume that prediction if
    the process dies mid-call. Not called when resuming. It should not raise: a generator
    lets its exceptions through."""
    on_waiting: Callable[[], None] | None = None
    """Called once the prediction runs and the attempt only waits for its webhook: the caller
    may give the attempt's slot to other work meanwhile. Not called when polling."""
    ready_at: datetime | None = None
    """When the record asked for this attempt: a request's write time, a retry's due time."""
    waiting_since: datetime | None = None
    """When the asset began waiting for its provider in an outage, as the retry record of an
    earlier attempt that waited says (`headers.WAITING_SINCE`)."""


class Generator(Protocol):
    """Turns an attempt into a stored media file or a classified error. Never raises for
    provider failures: they come back as `GenerationFailed`."""

    async def generate(self, attempt: Attempt) -> GenerationResult: ...


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What a store knows about one stored blob."""

    key: str
    content_type: str
    size_bytes: int


class BlobStore(Protocol):
    """Stores generated media under content-addressed keys."""

    async def put(self, data: bytes, content_type: str) -> StoredMedia:
        """Store `data` (atomically; the same bytes give the same key) and describe it,
        with its playing time for audio and video."""
        ...

    async def stat(self, key: str) -> BlobInfo | None:
        """The blob's content type and size, or None if there is no such key."""
        ...

    async def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `start` to `end` (exclusive; None: to the end) of the blob."""
        ...
