"""Counting every `/v1` answer for `GET /sim/stats`'s `served` (creates, reads, 429s, 503s)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from replicate_sim.account import ServedCounts, call_of


class ServedCounter:
    """ASGI middleware: counts each `/v1` answer into the app's simulator once it starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        counts: ServedCounts = scope["app"].state.simulator.served
        call = call_of(str(scope["method"]), path)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts.count(call, int(message["status"]))
            await send(message)

        await self.app(scope, receive, counted)
