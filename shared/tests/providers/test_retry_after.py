from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.providers.retry_after import hint_from_header, hint_from_text, retry_after_s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Request was throttled. Your rate limit resets in ~30s.", 30.0),
        ("Request was throttled. Your rate limit resets in ~7s.", 7.0),
        ("Request was throttled. Expected available in 1 second.", 1.0),
        ("Request was throttled. Expected available in 12 seconds.", 12.0),
        ("Please try again in 2.5 seconds", 2.5),
    ],
)
def test_throttle_texts_name_their_wait(text: str, seconds: float) -> None:
    assert hint_from_text(text) == seconds


@pytest.mark.parametrize("text", [None, "", "Request was throttled.", "resets soon"])
def test_texts_without_a_time_give_no_hint(text: str | None) -> None:
    assert hint_from_text(text) is None


def test_a_delta_seconds_header_is_read() -> None:
    assert hint_from_header("7") == 7.0


def test_an_http_date_header_counts_down_from_now() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert hint_from_header("Thu, 01 Jan 2026 12:00:45 GMT", now) == 45.0


def test_a_date_in_the_past_means_no_wait() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert hint_from_header("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "nan"])
def test_unreadable_headers_give_no_hint(value: str | None) -> None:
    assert hint_from_header(value) is None


def test_the_longer_hint_wins_so_a_retry_is_never_early() -> None:
    assert retry_after_s("3", "resets in ~30s") == 30.0
    assert retry_after_s("60", "resets in ~30s") == 60.0
    assert retry_after_s(None, None) is None
