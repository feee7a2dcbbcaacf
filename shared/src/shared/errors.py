"""One error type for every provider and medium (DESIGN §3).

A provider adapter classifies each failure once, at its edge, into a `GenerationError`;
everything downstream (the retry decision, the events, the views, the UI) reads only the
fields defined here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorCode(StrEnum):
    """What kind of failure happened, as far as retrying and the user are concerned."""

    SENSITIVE_CONTENT = "SENSITIVE_CONTENT"
    INVALID_INPUT = "INVALID_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    TRANSIENT_PROVIDER_ERROR = "TRANSIENT_PROVIDER_ERROR"
    PROVIDER_FAILURE = "PROVIDER_FAILURE"
    PROVIDER_CONFIGURATION = "PROVIDER_CONFIGURATION"
    UNKNOWN = "UNKNOWN"


# (retryable, user_action_required) for each code: the table of DESIGN §3.
_TRAITS: dict[ErrorCode, tuple[bool, bool]] = {
    ErrorCode.SENSITIVE_CONTENT: (False, True),
    ErrorCode.INVALID_INPUT: (False, True),
    ErrorCode.RATE_LIMITED: (True, False),
    ErrorCode.TRANSIENT_PROVIDER_ERROR: (True, False),
    ErrorCode.PROVIDER_FAILURE: (False, False),
    ErrorCode.PROVIDER_CONFIGURATION: (False, False),
    ErrorCode.UNKNOWN: (True, False),
}

_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|authorization|api[_-]?key|credential|cookie", re.I
)
_SECRET_VALUE = re.compile(
    r"(r8_[A-Za-z0-9]{8,})"  # Replicate API tokens
    r"|((?:Bearer|Token)\s+[A-Za-z0-9._~+/=-]{8,})"  # Authorization header values
    r"|((?:sk|pk|ghp|xox[bp])[-_][A-Za-z0-9_-]{8,})",  # other well-known token shapes
)
REDACTED = "[redacted]"


def redact(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `context` with secret-looking keys and values replaced by `[redacted]`.

    Nested mappings, lists and tuples are cleaned too; other values are kept as they are.
    """
    return {
        key: REDACTED if _SECRET_KEY.search(str(key)) else _redact_value(value)
        for key, value in context.items()
    }


def redact_text(text: str) -> str:
    """`text` with every secret-looking token (`r8_…`, `Bearer …`) replaced by `[redacted]`."""
    return _SECRET_VALUE.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item) for item in value)
    return value


def _usable_hint(retry_after_s: float | None) -> float | None:
    # A negative or non-finite hint says nothing usable: drop it rather than fail later.
    if retry_after_s is None or not math.isfinite(retry_after_s) or retry_after_s < 0:
        return None
    return float(retry_after_s)


class ErrorInfo(BaseModel):
    """The error as it travels in events and API responses (`context` stays in the logs)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: ErrorCode
    message: str
    provider: str | None = None
    provider_code: str | None = None
    retryable: bool
    user_action_required: bool
    retry_after_s: float | None = Field(default=None, ge=0)


class GenerationError(Exception):
    """A classified failure of one generation attempt.

    Build one with the constructor named after its code, for example
    `GenerationError.sensitive_content("flagged", provider_code="E005")`; the code fixes
    `retryable` and `user_action_required` unless they are given explicitly.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        provider: str | None = None,
        provider_code: str | None = None,
        retryable: bool | None = None,
        user_action_required: bool | None = None,
        retry_after_s: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        message = redact_text(message)
        super().__init__(message)
        default_retryable, default_action = _TRAITS[code]
        self.code = code
        self.message = message
        self.provider = provider
        self.provider_code = provider_code
        self.retryable = default_retryable if retryable is None else retryable
        self.user_action_required = (
            default_action if user_action_required is None else user_action_required
        )
        self.retry_after_s = _usable_hint(retry_after_s)
        self.context: dict[str, Any] = redact(context or {})

    def __repr__(self) -> str:
        return (
            f"GenerationError({self.code.value}, {self.message!r}, "
            f"provider_code={self.provider_code!r}, retryable={self.retryable})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions are copied and pickled through their args; ours has keyword fields.
        return (_rebuild, (self.code, self.message, self._fields()))

    def _fields(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "provider_code": self.provider_code,
            "retryable": self.retryable,
            "user_action_required": self.user_action_required,
            "retry_after_s": self.retry_after_s,
            "context": self.context,
        }

    @property
    def info(self) -> ErrorInfo:
        """The error without its log-only context, for events and API responses."""
        return ErrorInfo(
            code=self.code,
            message=self.message,
            provider=self.provider,
            provider_code=self.provider_code,
            retryable=self.retryable,
            user_action_required=self.user_action_required,
            retry_after_s=self.retry_after_s,
        )

    @classmethod
    def from_info(cls, info: ErrorInfo) -> GenerationError:
        """Rebuild an error from its event form (the context is gone)."""
        return cls(
            info.code,
            info.message,
            provider=info.provider,
            provider_code=info.provider_code,
            retryable=info.retryable,
            user_action_required=info.user_action_required,
            retry_after_s=info.retry_after_s,
        )

    @classmethod
    def sensitive_content(cls, message: str, **kw: Any) -> GenerationError:
        """The provider's moderation rejected the input or output: a person must edit it."""
        return cls(ErrorCode.SENSITIVE_CONTENT, message, **kw)

    @classmethod
    def invalid_input(cls, message: str, **kw: Any) -> GenerationError:
        """The provider rejected the input as invalid: a person must change prompt or model."""
        return cls(ErrorCode.INVALID_INPUT, message, **kw)

    @classmethod
    def rate_limited(cls, message: str, **kw: Any) -> GenerationError:
        """The provider throttled us; `retry_after_s` carries its hint when it gave one."""
        return cls(ErrorCode.RATE_LIMITED, message, **kw)

    @classmethod
    def transient(cls, message: str, **kw: Any) -> GenerationError:
        """A passing provider or network fault: another attempt can help."""
        return cls(ErrorCode.TRANSIENT_PROVIDER_ERROR, message, **kw)

    @classmethod
    def provider_failure(cls, message: str, **kw: Any) -> GenerationError:
        """The model failed for good (out of memory, a crash that repeats)."""
        return cls(ErrorCode.PROVIDER_FAILURE, message, **kw)

    @classmethod
    def configuration(cls, message: str, **kw: Any) -> GenerationError:
        """Credentials, billing or the model reference are wrong: an operator must act."""
        return cls(ErrorCode.PROVIDER_CONFIGURATION, message, **kw)

    @classmethod
    def unknown(cls, message: str, **kw: Any) -> GenerationError:
        """Anything unrecognised; retried up to the limit."""
        return cls(ErrorCode.UNKNOWN, message, **kw)


def _rebuild(code: ErrorCode, message: str, fields: dict[str, Any]) -> GenerationError:
    return GenerationError(code, message, **fields)
