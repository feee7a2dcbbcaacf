"""Reading a provider's "try again in N seconds" hint from a header or from its own words."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# "Request was throttled. Your rate limit resets in ~30s."
# "Request was throttled. Expected available in 1 second."
_TEXT_HINTS = (
    re.compile(r"resets?\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", re.I),
    re.compile(r"available\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", re.I),
    re.compile(r"try\s+again\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", re.I),
)


def hint_from_text(text: str | None) -> float | None:
    """Seconds named in a throttling message, or None if it names none."""
    if not text:
        return None
    for pattern in _TEXT_HINTS:
        match = pattern.search(text)
        if match:
            return float(match.group(1))
    return None


def hint_from_header(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now or datetime.now(UTC))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_after_s(header: str | None, text: str | None, *numbers: float | None) -> float | None:
    """The longest hint (a retry must not come before any allows), or None.

    `numbers` are hints already in seconds: a 429 body's `retry_after`, `ratelimit-reset`."""
    found = (hint_from_header(header), hint_from_text(text), *numbers)
    hints = [h for h in found if h is not None]
    return max(hints) if hints else None
