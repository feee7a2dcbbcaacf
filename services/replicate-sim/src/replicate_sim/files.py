"""Files kept in memory and served at `/files/{id}`: the outputs `[[sim:foreign-output]]` points
at another host (content-addressed, unlike the per-prediction delivery folders)."""

from __future__ import annotations

import hashlib

from replicate_sim.lru import LruCache
from replicate_sim.media import Media

STORE_BYTES = 512 * 1024 * 1024


class FileStore:
    """Content-addressed (the same bytes get the same id); the least recently used files are
    dropped past `max_bytes`, as Replicate deletes its output files after an hour."""

    def __init__(self, max_bytes: int = STORE_BYTES) -> None:
        self._files: LruCache[str, Media] = LruCache(max_bytes, lambda media: len(media.data))

    def put(self, media: Media) -> str:
        file_id = f"{hashlib.sha256(media.data).hexdigest()[:32]}.{media.extension}"
        self._files.put(file_id, media)
        return file_id

    def get(self, file_id: str) -> Media | None:
        return self._files.get(file_id)

    def reset(self) -> None:
        self._files.clear()
