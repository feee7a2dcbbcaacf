"""A 429's numeric `retry_after` and the `ratelimit-*` headers, read from real answers.

Each sample is quoted from the public source named beside it."""

from __future__ import annotations

import json

import httpx
from replicate.exceptions import ReplicateError

from shared.errors import ErrorCode
from shared.providers.classify import classify_api_error, classify_exception
from shared.providers.rate_hints import RateHints, hints_from_response

# github.com/nodetool-ai/nodetool/issues/5196: a low-credit account's 429, body quoted whole.
LOW_CREDIT_429 = {
    "detail": "Request was throttled. Your rate limit for creating predictions is reduced to 6 "
    "requests per minute with a burst of 1 requests while you have less than $5.0 in credit. "
    "Your rate limit resets in ~5s.",
    "status": 429,
    "retry_after": 5,
}
# The `ratelimit-*` headers as the `replicate` client's recorded exchanges show them
# (github.com/replicate/replicate-python, tests/cassettes/predictions-get.yaml).
RATELIMIT_HEADERS = {"ratelimit-remaining": "0", "ratelimit-reset": "1"}


def _answer(status: int, body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    request = httpx.Request("POST", "https://api.replicate.com/v1/predictions")
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers=headers, request=request
    )


def test_the_numeric_retry_after_of_a_429_body_and_the_ratelimit_headers_are_read() -> None:
    hints = hints_from_response(_answer(429, LOW_CREDIT_429, RATELIMIT_HEADERS))
    assert hints == RateHints(retry_after_body=5.0, remaining=0, reset_s=1.0)


def test_the_body_retry_after_is_the_hint_when_the_text_names_no_time() -> None:
    # github.com/juspay/neurolink/issues/1189 saw `retry_after: 8` on such throttles
    hints = RateHints(retry_after_body=8.0, remaining=0, reset_s=1.0)
    error = classify_api_error(429, None, "Request was throttled.", hints=hints)
    assert (error.code, error.retry_after_s) == (ErrorCode.RATE_LIMITED, 8.0)
    assert error.context["ratelimit_remaining"] == 0
    assert error.context["ratelimit_reset_s"] == 1.0
    assert error.context["retry_after_body"] == 8.0


def test_a_client_error_keeps_the_hints_its_answer_gave() -> None:
    exc = ReplicateError(status=429, detail=str(LOW_CREDIT_429["detail"]))
    hints = hints_from_response(_answer(429, LOW_CREDIT_429, RATELIMIT_HEADERS))
    error = classify_exception(exc, hints=hints)
    assert error.retry_after_s == 5.0
    assert error.context["ratelimit_remaining"] == 0


def test_hints_of_an_answer_without_them_are_empty() -> None:
    hints = hints_from_response(_answer(200, {"id": "p"}, {}))
    assert hints == RateHints()
    assert hints.context() == {}
