"""Cursors of the lectures list round-trip, and anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.cursor import BadCursorError, decode_cursor, encode_cursor


def test_a_cursor_decodes_to_the_position_it_was_made_from() -> None:
    at = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)

    assert decode_cursor(encode_cursor(at, "lec_01|odd")) == (at, "lec_01|odd")


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90aGluZw", encode_cursor.__name__])
def test_a_cursor_not_made_here_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursorError):
        decode_cursor(cursor)


def test_a_cursor_without_a_time_zone_is_refused() -> None:
    import base64

    naive = base64.urlsafe_b64encode(b"2026-03-01T12:00:00|lec_1").decode()

    with pytest.raises(BadCursorError):
        decode_cursor(naive)
