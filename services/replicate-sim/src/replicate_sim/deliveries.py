"""Output files as Replicate's delivery host hands them out: one folder per prediction, named
by a random token, holding `out-0.<ext>`, `out-1.<ext>`, ... (the shape of the real
`https://replicate.delivery/xezq/<token>/out-0.webp`). A file is served only while the
prediction that made it still has its output."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from replicate_sim.lru import LruCache
from replicate_sim.media import Media

STORE_BYTES = 512 * 1024 * 1024
PATH_PREFIX = "/delivery/xezq"
"""Where this server serves the files; `--delivery-base-url` can name another host for them."""
TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 45
_FILE_NAME = re.compile(r"^out-(\d+)\.[a-z0-9]+$")


@dataclass(frozen=True)
class Delivered:
    """The files of one prediction."""

    prediction_id: str
    files: tuple[Media, ...]


def file_name(index: int, media: Media) -> str:
    return f"out-{index}.{media.extension}"


class Deliveries:
    """The delivered files, least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = STORE_BYTES) -> None:
        self._folders: LruCache[str, Delivered] = LruCache(
            max_bytes, lambda folder: sum(len(media.data) for media in folder.files)
        )

    def put(self, prediction_id: str, files: tuple[Media, ...]) -> str:
        """Store a prediction's files; the token of their folder."""
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        self._folders.put(token, Delivered(prediction_id, files))
        return token

    def get(self, token: str, name: str) -> tuple[str, Media] | None:
        """The prediction id and the file `name` (`out-0.png`) of folder `token`, if known."""
        folder = self._folders.get(token)
        match = _FILE_NAME.match(name)
        if folder is None or match is None or int(match[1]) >= len(folder.files):
            return None
        media = folder.files[int(match[1])]
        if name != file_name(int(match[1]), media):
            return None
        return folder.prediction_id, media

    def reset(self) -> None:
        self._folders.clear()
