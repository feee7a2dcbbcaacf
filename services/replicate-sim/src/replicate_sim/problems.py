"""Replicate's error answers (RFC 9457 problem details), as values the routes raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

THROTTLED = "Request was throttled. Your rate limit resets in ~{after}s."


@dataclass(frozen=True)
class Problem:
    """An HTTP error answer: status, Replicate's wording, and any extra members or hint."""

    status: int
    detail: str
    title: str | None = None
    retry_after_s: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        head: dict[str, Any] = {"title": self.title} if self.title else {}
        hint = {"retry_after": self.retry_after_s} if self.retry_after_s is not None else {}
        return {**head, "detail": self.detail, "status": self.status, **hint, **self.extra}


class ProblemError(Exception):
    """Raised by a route to answer with a problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def unauthenticated() -> Problem:
    return Problem(401, "You did not pass a valid authentication token", title="Unauthenticated")


def not_found() -> Problem:
    return Problem(404, "The requested resource could not be found.")


def method_not_allowed() -> Problem:
    return Problem(405, "Method not allowed.", title="Method Not Allowed")


def invalid_version() -> Problem:
    return Problem(
        422,
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
        title="Invalid version or not permitted",
    )


def invalid_input(field_path: str, problem: str, kind: str = "invalid") -> Problem:
    """Replicate's 422 "Input validation failed" naming one field (`input.prompt`)."""
    name = field_path.removeprefix("input.")
    description = f"{name} {problem}"
    return Problem(
        422,
        f"- {field_path}: {description}\n",
        title="Input validation failed",
        extra={"invalid_fields": [{"type": kind, "field": field_path, "description": description}]},
    )


def throttled(after_s: int) -> Problem:
    """Replicate's 429, with the reset hint in the text, the body's numeric `retry_after` and
    `Retry-After`."""
    return Problem(429, THROTTLED.format(after=after_s), retry_after_s=after_s)


def insufficient_credit() -> Problem:
    """Replicate's 402, as the reference notes record it."""
    return Problem(
        402,
        "You have insufficient credit to run this model. Go to "
        "https://replicate.com/account/billing#billing to purchase credit. Once you purchase "
        "credit, please wait a few minutes before trying again.",
        title="Insufficient credit",
    )


def forbidden() -> Problem:
    """A 403: the token may not run this model (Replicate's exact words are not recorded)."""
    return Problem(403, "You do not have permission to perform this action.", title="Forbidden")


def read_error(status: int) -> Problem:
    """A read of a prediction that fails on the server's side."""
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    title = titles.get(status, "Server Error")
    return Problem(status, "The server could not answer the request.", title=title)


def unavailable() -> Problem:
    return Problem(503, "Service is temporarily unavailable.", title="Service Unavailable")


def gateway_timeout() -> Problem:
    return Problem(504, "The request took too long.", title="Gateway Timeout")


def internal_error() -> Problem:
    return Problem(500, "An unexpected error occurred.", title="Internal Server Error")
