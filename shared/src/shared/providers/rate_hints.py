"""What one Replicate answer says about the account's rate limit, beyond its status.

A 429 body carries a numeric `retry_after` (`{"detail": "Request was throttled. ...",
"status": 429, "retry_after": 5}`) and every answer carries `ratelimit-remaining` /
`ratelimit-reset` headers. The client's `ReplicateError` keeps neither, so the client's
response hook reads them here and the classifier is handed the result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class RateHints:
    """The rate-limit facts of one answer; None where the answer did not say."""

    retry_after_header: str | None = None
    """The raw `Retry-After` header (delta-seconds or an HTTP date)."""
    retry_after_body: float | None = None
    """The numeric `retry_after` member of an error body, in seconds."""
    remaining: int | None = None
    """`ratelimit-remaining`: requests left in the current window."""
    reset_s: float | None = None
    """`ratelimit-reset`: seconds until the window resets."""

    def context(self) -> dict[str, Any]:
        """The facts worth logging with an error (only those the answer gave)."""
        facts = {
            "retry_after_body": self.retry_after_body,
            "ratelimit_remaining": self.remaining,
            "ratelimit_reset_s": self.reset_s,
        }
        return {key: value for key, value in facts.items() if value is not None}


def hints_from_response(response: httpx.Response) -> RateHints:
    """The hints of an answer whose body, if it is an error's, has been read."""
    headers = response.headers
    body = _error_body(response) if response.status_code >= 400 else {}
    remaining = _number(headers.get("ratelimit-remaining"))
    return RateHints(
        retry_after_header=headers.get("Retry-After"),
        retry_after_body=_number(body.get("retry_after")),
        remaining=int(remaining) if remaining is not None else None,
        reset_s=_number(headers.get("ratelimit-reset")),
    )


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, httpx.ResponseNotRead):
        return {}
    return body if isinstance(body, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None
