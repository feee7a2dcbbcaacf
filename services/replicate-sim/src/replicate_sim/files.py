"""Generated files kept in memory and served at `/files/{id}` when outputs are URLs."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from replicate_sim.media import Media


class FileStore:
    """Content-addressed: the same bytes get the same id. Keeps the newest `capacity` files."""

    def __init__(self, capacity: int = 512) -> None:
        self._files: OrderedDict[str, Media] = OrderedDict()
        self._capacity = capacity

    def put(self, media: Media) -> str:
        file_id = f"{hashlib.sha256(media.data).hexdigest()[:32]}.{media.extension}"
        self._files[file_id] = media
        self._files.move_to_end(file_id)
        while len(self._files) > self._capacity:
            self._files.popitem(last=False)
        return file_id

    def get(self, file_id: str) -> Media | None:
        return self._files.get(file_id)

    def reset(self) -> None:
        self._files.clear()
