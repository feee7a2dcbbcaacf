"""Opaque cursors of the lectures list: where the previous page ended. Pure.

A cursor is the (created_at, lecture_id) of the last lecture of a page, base64url-encoded, so
the next page starts strictly after it whatever was created in between.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

Position = tuple[datetime, str]


class BadCursorError(ValueError):
    """The cursor was not made by `encode_cursor`."""


def encode_cursor(created_at: datetime, lecture_id: str) -> str:
    raw = f"{created_at.isoformat()}|{lecture_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, lecture_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursorError(cursor) from exc
    if created_at.tzinfo is None or not lecture_id:
        raise BadCursorError(cursor)
    return created_at, lecture_id
