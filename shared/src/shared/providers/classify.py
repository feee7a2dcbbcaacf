"""Replicate's failures, classified once into `GenerationError`s (DESIGN §3).

Two tables, read top to bottom, first match wins: `HTTP_RULES` for API answers with an error
status, `PREDICTION_RULES` for the `error` text of a failed prediction. Billing and moderation
come first, so a generic status or wording never hides them. The functions below the tables
add what no table can hold: status-only outcomes (`canceled`, `aborted`, empty output) and
exceptions raised by the client or the network. Every function is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic
from pydantic import v1 as pydantic_v1
from replicate.exceptions import ModelError, ReplicateError

from shared.errors import ErrorCode, GenerationError
from shared.providers.rate_hints import RateHints
from shared.providers.retry_after import retry_after_s

PROVIDER = "replicate"

_E_CODE = re.compile(r"\b(E\d{3,4})\b")


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: failures that match `statuses` (any, if empty) and `text` mean `code`."""

    code: ErrorCode
    text: re.Pattern[str] | None = None
    statuses: tuple[int, ...] = ()
    provider_code: str | None = None
    """Fixed upstream code; otherwise the HTTP status, or the `Exxxx` code the text names."""

    def matches(self, status: int | None, text: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        return self.text is None or bool(self.text.search(text))


def _text(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_BILLING = _text(r"insufficient credit|billing required|payment required")
_MODERATION = _text(
    r"\bE005\b|flagged as (potentially )?sensitive|\bNSFW\b|content moderation|new_sensitive"
)

HTTP_RULES: tuple[Rule, ...] = (
    Rule(ErrorCode.PROVIDER_CONFIGURATION, _BILLING),
    Rule(ErrorCode.SENSITIVE_CONTENT, _MODERATION),
    Rule(ErrorCode.PROVIDER_CONFIGURATION, statuses=(401, 402, 403, 404)),
    Rule(
        ErrorCode.PROVIDER_CONFIGURATION,
        _text(r"invalid version|not permitted|version does not exist"),
        statuses=(422,),
    ),
    Rule(ErrorCode.INVALID_INPUT, statuses=(422,)),
    Rule(ErrorCode.INVALID_INPUT, statuses=(413,)),
    Rule(ErrorCode.PROVIDER_CONFIGURATION, statuses=(400, 409)),
    Rule(ErrorCode.RATE_LIMITED, statuses=(429,)),
    Rule(ErrorCode.TRANSIENT_PROVIDER_ERROR, statuses=(408, *range(500, 600))),
)
"""API answers with an error status (`ReplicateError`), matched on status and title + detail."""

PREDICTION_RULES: tuple[Rule, ...] = (
    Rule(
        ErrorCode.SENSITIVE_CONTENT, _text(r"\bE005\b|flagged as sensitive"), provider_code="E005"
    ),
    Rule(ErrorCode.SENSITIVE_CONTENT, _text(r"input new_sensitive|\(1026\)"), provider_code="1026"),
    Rule(
        ErrorCode.SENSITIVE_CONTENT, _text(r"output new_sensitive|\(1027\)"), provider_code="1027"
    ),
    Rule(
        ErrorCode.SENSITIVE_CONTENT,
        _text(
            r"flagged as potentially sensitive|content moderation|\bNSFW\b|safety (checker|filter)"
        ),
    ),
    Rule(ErrorCode.INVALID_INPUT, _text(r"\bE006\b|input was invalid"), provider_code="E006"),
    Rule(ErrorCode.INVALID_INPUT, _text(r"\bE9243\b"), provider_code="E9243"),
    Rule(ErrorCode.PROVIDER_FAILURE, _text(r"\bE1001\b"), provider_code="E1001"),
    Rule(ErrorCode.PROVIDER_FAILURE, _text(r"out of memory|OutOfMemory|exitcode -9")),
    Rule(
        ErrorCode.TRANSIENT_PROVIDER_ERROR,
        _text(r"\b(E003|E004|E6716|E1000|E8367|E8765|E9825|E9828)\b"),
    ),
    Rule(ErrorCode.TRANSIENT_PROVIDER_ERROR, _text(r"\(code:\s*PA\)"), provider_code="PA"),
    Rule(ErrorCode.PROVIDER_FAILURE, _text(r"^\s*Prediction timed out")),
)
"""The `error` text of a `failed` prediction. No match (or no text) is `UNKNOWN`."""


def _first(rules: tuple[Rule, ...], status: int | None, text: str) -> Rule | None:
    return next((rule for rule in rules if rule.matches(status, text)), None)


def classify_api_error(
    status: int | None,
    title: str | None,
    detail: str | None,
    *,
    retry_after_header: str | None = None,
    hints: RateHints | None = None,
    context: Mapping[str, Any] | None = None,
) -> GenerationError:
    """An API answer with an error status (create, get, cancel).

    `hints`: what the answer's headers and body said about the rate limit; for a 429 the
    longest of `Retry-After`, the body's `retry_after`, `ratelimit-reset` and the detail
    text is the retry hint, and all of them are kept in the context."""
    text = " ".join(part for part in (title, detail) if part)
    rule = _first(HTTP_RULES, status, text)
    code = rule.code if rule else ErrorCode.UNKNOWN
    hints = hints or RateHints()
    header = retry_after_header or hints.retry_after_header
    hint = (
        retry_after_s(header, text, hints.retry_after_body, hints.reset_s)
        if code is ErrorCode.RATE_LIMITED
        else None
    )
    return GenerationError(
        code,
        detail or title or f"Replicate answered HTTP {status}",
        provider=PROVIDER,
        provider_code=str(status) if status is not None else None,
        retry_after_s=hint,
        context={**(context or {}), "http_status": status, "title": title, **hints.context()},
    )


def classify_prediction_error(
    error: str | None, *, context: Mapping[str, Any] | None = None
) -> GenerationError:
    """The `error` text of a prediction whose status is `failed`."""
    text = error or ""
    rule = _first(PREDICTION_RULES, None, text)
    named = _E_CODE.search(text)
    provider_code = (rule.provider_code if rule else None) or (named.group(1) if named else None)
    return GenerationError(
        rule.code if rule else ErrorCode.UNKNOWN,
        error or "The prediction failed without an error message.",
        provider=PROVIDER,
        provider_code=provider_code,
        context=context,
    )


def classify_prediction(
    status: str, error: str | None, output: object, *, context: Mapping[str, Any] | None = None
) -> GenerationError | None:
    """A finished prediction: None when it succeeded with output, else the error.

    Called only for predictions we did not cancel ourselves, so `canceled` is unexpected.
    """
    if status == "succeeded":
        if output in (None, "", [], {}):
            return GenerationError.sensitive_content(
                "The prediction succeeded but returned no output: the model's safety filter "
                "probably removed it.",
                provider=PROVIDER,
                context=context,
            )
        return None
    if status == "failed":
        return classify_prediction_error(error, context=context)
    if status in ("canceled", "aborted"):
        return GenerationError.transient(
            error or f"The prediction was {status} before it finished.",
            provider=PROVIDER,
            provider_code=status,
            context=context,
        )
    return GenerationError.unknown(
        f"The prediction ended with an unknown status {status!r}.",
        provider=PROVIDER,
        provider_code=status,
        context=context,
    )


def classify_exception(
    exc: BaseException,
    *,
    retry_after_header: str | None = None,
    hints: RateHints | None = None,
    context: Mapping[str, Any] | None = None,
) -> GenerationError:
    """An exception raised while talking to Replicate or downloading its output.

    `retry_after_header`, `hints`: `ReplicateError` carries no headers and drops the body's
    `retry_after`, so a caller that saw the response passes them here.
    """
    ctx = {**(context or {}), "exception": type(exc).__name__}
    if isinstance(exc, ReplicateError):
        return classify_api_error(
            exc.status,
            exc.title,
            exc.detail,
            retry_after_header=retry_after_header,
            hints=hints,
            context=ctx,
        )
    if isinstance(exc, ModelError):
        return classify_prediction_error(exc.prediction.error, context=ctx)
    if isinstance(exc, pydantic_v1.ValidationError | pydantic.ValidationError):
        return _unreadable_prediction(exc, ctx)
    if isinstance(exc, httpx.HTTPStatusError):
        return GenerationError.transient(
            f"Downloading the output failed with HTTP {exc.response.status_code}.",
            provider=PROVIDER,
            context={**ctx, "url_host": exc.request.url.host},
        )
    if isinstance(exc, httpx.TransportError | TimeoutError):
        return GenerationError.transient(
            f"Could not reach Replicate: {type(exc).__name__}: {exc}".rstrip(": "),
            provider=PROVIDER,
            context=ctx,
        )
    return GenerationError.unknown(
        f"{type(exc).__name__}: {exc}".rstrip(": "), provider=PROVIDER, context=ctx
    )


def _unreadable_prediction(
    exc: pydantic_v1.ValidationError | pydantic.ValidationError, ctx: dict[str, Any]
) -> GenerationError:
    # The client's Prediction model knows no `aborted` status (a `Cancel-After` deadline
    # passed before the prediction started) and fails to parse it: that is the known cause.
    fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
    if "status" in fields:
        return GenerationError.transient(
            "The prediction was aborted before it started (a status the client cannot read).",
            provider=PROVIDER,
            provider_code="aborted",
            context=ctx,
        )
    return GenerationError.unknown(
        f"Replicate answered a prediction the client could not read: {exc}",
        provider=PROVIDER,
        context=ctx,
    )
