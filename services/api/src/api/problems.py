"""RFC 9457 problem details: the one error shape of every API response.

Routes raise `ProblemError` (or let FastAPI raise its own errors); the handlers installed by
`install_problem_handlers` turn each into `application/problem+json`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:lecturegen:problem:"

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One invalid input: where it is (`segments.2.duration_s`) and what is wrong."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field("about:blank", description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(
        None, description="the invalid fields, for validation problems (422)"
    )


class ProblemError(Exception):
    """An error a route reports to its client as a problem; `slug` names its `type`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = list(errors) if errors is not None else None
        self.headers = headers


def not_found(what: str, ident: str) -> ProblemError:
    return ProblemError(404, f"no {what} with id {ident!r}", slug="not-found")


def invalid(errors: Iterable[FieldError]) -> ProblemError:
    found = list(errors)
    return ProblemError(422, _validation_detail(found), slug="validation", errors=found)


def too_large(what: str, size: int, limit: int) -> ProblemError:
    """413 for a command whose event the event log cannot take, naming the limit."""
    return ProblemError(
        413,
        f"{what} is {size} bytes as an event; the event log takes at most {limit} bytes per "
        "event (its topic's max.message.bytes): send less text or fewer segments",
        slug="event-too-large",
    )


def problem_response(
    status: int,
    *,
    request: Request | None = None,
    detail: str | None = None,
    slug: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A `application/problem+json` response for `status`."""
    body = Problem(
        type=PROBLEM_BASE + slug if slug else "about:blank",
        title=_title(status),
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_name(loc: Sequence[int | str]) -> str:
    """`("body", "segments", 2, "duration_s")` → `segments.2.duration_s`; other sources keep
    their location: `("query", "status")` → `query.status`."""
    parts = list(loc[1:]) if loc and loc[0] == "body" else list(loc)
    return ".".join(str(part) for part in parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error FastAPI or a route raises answer as problem+json."""
    app.add_exception_handler(ProblemError, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]


async def _on_problem(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(
        exc.status,
        request=request,
        detail=exc.detail,
        slug=exc.slug,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_field_error(err) for err in exc.errors()]
    return problem_response(
        422, request=request, detail=_validation_detail(errors), slug="validation", errors=errors
    )


async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == _title(exc.status_code):
        detail = None
    return problem_response(
        exc.status_code, request=request, detail=detail, headers=dict(exc.headers or {})
    )


def _field_error(err: Any) -> FieldError:
    loc = err.get("loc", ()) if isinstance(err, dict) else ()
    message = err.get("msg", "invalid value") if isinstance(err, dict) else str(err)
    return FieldError(field=field_name(loc), message=message)


def _validation_detail(errors: Sequence[FieldError]) -> str:
    if not errors:
        return "the request is not valid"
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first.field}: {first.message}{more}"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries declaring problem+json bodies for `statuses`."""
    return {
        status: {
            "description": _title(status),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
