"""Refuse a request body larger than the API takes with 413, before reading it whole.

A declared `Content-Length` over the limit is refused at once; a body sent without one is
counted as it arrives and refused when it passes the limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = problem_response(
                413, detail=self._detail(f"{declared} bytes"), slug="body-too-large"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # FastAPI lets an HTTPException raised while reading the body through.
                raise HTTPException(413, self._detail(f"over {self.max_bytes} bytes"))
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self, size: str) -> str:
        return (
            f"the request body is {size}; the API takes at most {self.max_bytes} bytes "
            "(LECTUREGEN_API_MAX_BODY_BYTES)"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
