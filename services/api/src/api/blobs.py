"""The blob store the media route reads, chosen by `BlobSettings`."""

from __future__ import annotations

from shared.blobstore.filesystem import FilesystemBlobStore
from shared.ports import BlobStore
from shared.settings import BlobSettings


def open_blob_store(settings: BlobSettings) -> BlobStore:
    if settings.backend == "filesystem":
        return FilesystemBlobStore(settings.root)
    raise ValueError(f"the API cannot serve media from blob backend {settings.backend!r}")
