"""`/media/{key}`: generated media from blob storage, with HTTP range requests.

Public on purpose: keys are content addresses nobody can guess, they are only handed out by
the authenticated `/v1` reads, and `<img>`, `<audio>` and `<video>` elements cannot send an
`Authorization` header. Anything that is not a well-formed key (`..`, absolute paths,
backslashes, hidden names) is answered 404 before the store is asked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response, StreamingResponse

from api.deps import Blobs
from api.problems import ProblemError, responses
from api.ranges import RangeNotSatisfiableError, parse_range
from shared.ports import BlobStore

router = APIRouter(tags=["media"])

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]*(/[A-Za-z0-9][A-Za-z0-9_.=-]*)*$")
MAX_KEY = 512


def is_safe_key(key: str) -> bool:
    """A relative key of plain segments: nothing that could leave the store's root."""
    return len(key) <= MAX_KEY and ".." not in key and _KEY.match(key) is not None


@router.get(
    "/media/{key:path}",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the whole file", "content": {"application/octet-stream": {}}},
        206: {"description": "the requested byte range"},
        **responses(404, 416),
    },
)
async def get_media(
    key: Annotated[str, Path(description="the blob key from a `media_url`")],
    blobs: Blobs,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    info = await blobs.stat(key) if is_safe_key(key) else None
    if info is None:
        raise ProblemError(404, "no such media", slug="not-found")
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{info.key}"',
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    try:
        wanted = parse_range(range_header, info.size_bytes)
    except RangeNotSatisfiableError:
        raise ProblemError(
            416,
            f"the range lies outside the file's {info.size_bytes} bytes",
            slug="range-not-satisfiable",
            headers={**headers, "Content-Range": f"bytes */{info.size_bytes}"},
        ) from None
    if wanted is None:
        headers["Content-Length"] = str(info.size_bytes)
        return StreamingResponse(
            _chunks(blobs, key, 0, info.size_bytes), media_type=info.content_type, headers=headers
        )
    headers["Content-Length"] = str(wanted.length)
    headers["Content-Range"] = wanted.content_range(info.size_bytes)
    return StreamingResponse(
        _chunks(blobs, key, wanted.start, wanted.end + 1),
        status_code=206,
        media_type=info.content_type,
        headers=headers,
    )


async def _chunks(blobs: BlobStore, key: str, start: int, stop: int) -> AsyncIterator[bytes]:
    position = start
    while position < stop:
        chunk = await blobs.read(key, position, min(position + CHUNK, stop))
        if not chunk:
            return
        yield chunk
        position += len(chunk)
