"""Routes of the editor's page: the same HTML shell at `/` and `/lectures/{id}` (deep links
work on reload; the page's JavaScript picks the view), and its files under `/ui/`.

The page is public like `/media`: it holds no data. Everything it shows comes from the `/v1`
API with the token the person signs in with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from api.problems import not_found

STATIC = Path(__file__).with_name("static")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
FILES = {
    path.relative_to(STATIC).as_posix(): path
    for path in STATIC.rglob("*")
    if path.suffix in CONTENT_TYPES and path.name != "index.html"
}
"""Every file the page may load, fixed at start: nothing outside this set is ever served."""

HEADERS = {
    # Revalidate every time: a reload after an upgrade never mixes old and new modules.
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
PAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


def _page() -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type=CONTENT_TYPES[".html"], headers=PAGE_HEADERS
    )


@router.get("/")
async def home() -> FileResponse:
    return _page()


@router.get("/lectures/{lecture_id}")
async def lecture_page(lecture_id: Annotated[str, PathParam(max_length=128)]) -> FileResponse:
    return _page()


@router.get("/ui/{name:path}")
async def asset_file(name: str) -> FileResponse:
    path = FILES.get(name)
    if path is None:
        raise not_found("file", name)
    return FileResponse(path, media_type=CONTENT_TYPES[path.suffix], headers=HEADERS)
