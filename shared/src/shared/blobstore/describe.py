"""What every blob store does alike: name and describe a blob, check a byte range."""

from __future__ import annotations

from shared.blobstore.keys import blob_key, normalize_content_type
from shared.blobstore.probe import media_duration
from shared.results import StoredMedia


class BlobNotFoundError(LookupError):
    """No blob is stored under the key (or the key is not one a store ever gives out)."""


class BlobStoreError(Exception):
    """The store could not do what was asked (its service failed or refused)."""


def describe(data: bytes, content_type: str) -> StoredMedia:
    """The key, normalised type, size and playing time `data` is stored with."""
    kind = normalize_content_type(content_type)
    return StoredMedia(
        blob_key=blob_key(data, kind),
        content_type=kind,
        size_bytes=len(data),
        duration_s=media_duration(data, kind),
    )


def check_range(start: int, end: int | None) -> None:
    """Refuse a range no store can serve: a negative start, or an end before the start."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end})")
