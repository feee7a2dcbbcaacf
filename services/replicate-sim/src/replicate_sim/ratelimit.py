"""The `ratelimit-remaining` / `ratelimit-reset` headers every answer of the real API carries
(the `replicate` client's recorded exchanges show `599` left of the create budget, `2999` of
the budget for other calls, resetting in `1` second). The values here are the full budgets,
except under a `throttle` fault (`POST /sim/faults`), where they are the calls left in its
bucket."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from replicate_sim.account import Call, ProviderFaults, call_of

CREATE_BUDGET = 599
OTHER_BUDGET = 2999


class RateLimitHeaders:
    """ASGI middleware adding the two headers to every `/v1` answer that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        call = call_of(str(scope["method"]), str(scope["path"]))
        faults: ProviderFaults = scope["app"].state.simulator.faults
        full = CREATE_BUDGET if call is Call.CREATE else OTHER_BUDGET

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                throttled = faults.remaining(call)  # after this call took its token
                remaining = full if throttled is None else throttled
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"ratelimit-remaining" not in names:
                    headers += [
                        (b"ratelimit-remaining", str(remaining).encode()),
                        (b"ratelimit-reset", b"1"),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
