"""Cross-origin requests from frontends served elsewhere (`LECTUREGEN_API_CORS_ORIGINS`).

None are allowed by default: the editor's own page is served by the API (same origin). A listed
origin may call every route with a bearer token; credentials (cookies) are never involved, and
`Last-Event-ID` may be sent so a cross-origin EventSource resumes.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

EXPOSED = ["Location", "Retry-After", "X-Request-ID", "Content-Range", "Accept-Ranges"]


def allow_cross_origin(app: FastAPI, origins: Sequence[str]) -> None:
    """Answer preflights and add CORS headers for exactly these origins (none: no-op)."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID"],
        expose_headers=EXPOSED,
        allow_credentials=False,
        max_age=600,
    )
