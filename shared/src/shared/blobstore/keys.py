"""Content-addressed blob keys: `ab/<sha256>.<ext>`, the extension naming the content type.

The same bytes with the same type always get the same key, so storing twice is harmless, and a
key alone says what the blob is. Keys are checked against one strict pattern before any store
touches a path or URL with them, which also rules out path traversal.
"""

from __future__ import annotations

import hashlib
import re

DEFAULT_TYPE = "application/octet-stream"

_EXTENSIONS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    DEFAULT_TYPE: "bin",
}
_TYPES = {ext: content_type for content_type, ext in _EXTENSIONS.items()}
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "image/jpg": "image/jpeg",
}
_KEY = re.compile(r"^(?P<prefix>[0-9a-f]{2})/(?P<digest>[0-9a-f]{64})\.(?P<ext>[a-z0-9]{1,5})$")


def normalize_content_type(content_type: str) -> str:
    """`Audio/X-WAV; codec=1` → `audio/wav`; types we do not know become octet-stream."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    media_type = _ALIASES.get(media_type, media_type)
    return media_type if media_type in _EXTENSIONS else DEFAULT_TYPE


def blob_key(data: bytes, content_type: str) -> str:
    """The key `data` of this type is stored under."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}.{_EXTENSIONS[normalize_content_type(content_type)]}"


def is_valid_key(key: str) -> bool:
    """Whether `key` has the shape `blob_key` gives (and nothing else: no `..`, no `/` lead)."""
    match = _KEY.match(key)
    if match is None:
        return False
    return match["digest"].startswith(match["prefix"]) and match["ext"] in _TYPES


def content_type_of(key: str) -> str:
    """The content type a key's extension names."""
    return _TYPES.get(key.rpartition(".")[2], DEFAULT_TYPE)
