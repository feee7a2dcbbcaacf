"""Hand-written in-memory fakes of the ports, for unit tests of pure logic.

Each fake passes the same contract test suite as the real adapters, so it cannot drift.
"""

from __future__ import annotations

from shared.blobstore.describe import BlobNotFoundError, check_range, describe
from shared.blobstore.keys import content_type_of, is_valid_key
from shared.ports import BlobInfo
from shared.results import StoredMedia


class InMemoryBlobStore:
    """A `BlobStore` holding blobs in a dict."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put(self, data: bytes, content_type: str) -> StoredMedia:
        media = describe(data, content_type)
        self.blobs[media.blob_key] = bytes(data)
        return media

    async def stat(self, key: str) -> BlobInfo | None:
        data = self.blobs.get(key) if is_valid_key(key) else None
        if data is None:
            return None
        return BlobInfo(key=key, content_type=content_type_of(key), size_bytes=len(data))

    async def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        check_range(start, end)
        if key not in self.blobs:
            raise BlobNotFoundError(key)
        return self.blobs[key][start:end]
