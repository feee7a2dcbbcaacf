"""A dropped connection: the answer's head and the first bytes of its body go out, then the
server closes the connection (uvicorn closes it when an app fails after its answer started)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

PROMISED_BYTES = 4096


class ConnectionDroppedError(Exception):
    """Raised to cut the connection of the request being answered."""


class DroppedResponse(Response):
    """Starts a JSON answer, sends a fragment of it, and drops the connection."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(PROMISED_BYTES).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"id":"', "more_body": True})
        raise ConnectionDroppedError("the connection was dropped on purpose ([[sim:read-drop]])")
