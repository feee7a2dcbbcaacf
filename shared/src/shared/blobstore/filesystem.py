"""Blobs as files under one root directory: the default store (DESIGN §6)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from shared.blobstore.describe import BlobNotFoundError, check_range, describe
from shared.blobstore.keys import content_type_of, is_valid_key
from shared.ports import BlobInfo
from shared.results import StoredMedia


class FilesystemBlobStore:
    """Stores each blob at `<root>/<key>`, written atomically (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, data: bytes, content_type: str) -> StoredMedia:
        media = describe(data, content_type)
        await asyncio.to_thread(self._write, self.root / media.blob_key, data)
        return media

    async def stat(self, key: str) -> BlobInfo | None:
        if not is_valid_key(key):
            return None
        try:
            size = (self.root / key).stat().st_size
        except FileNotFoundError:
            return None
        return BlobInfo(key=key, content_type=content_type_of(key), size_bytes=size)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        check_range(start, end)
        if not is_valid_key(key):
            raise BlobNotFoundError(key)
        return await asyncio.to_thread(self._read, self.root / key, start, end)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.is_file() and path.stat().st_size == len(data):
            return  # content-addressed: the same key already holds these bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    @staticmethod
    def _read(path: Path, start: int, end: int | None) -> bytes:
        try:
            with path.open("rb") as file:
                file.seek(start)
                return file.read() if end is None else file.read(max(0, end - start))
        except FileNotFoundError as exc:
            raise BlobNotFoundError(path.name) from exc
