"""The HTTP transport under the `replicate` client that spends the process's `AccountBudget`.

It sits below the client's own retrying transport, so every request that reaches the network
(the client's retries of a throttled read included) waits for the budget first, and every 429
the provider answers slows the budget down by the answer's hint: the body's numeric
`retry_after`, `Retry-After`, or the "resets in ~Ns" of its text, whichever is longest. An
answer that says the window is used up (`ratelimit-remaining: 0`) holds that kind of call
until `ratelimit-reset`, before any 429.
"""

from __future__ import annotations

import httpx

from shared.providers.budget import AccountBudget, call_of
from shared.providers.rate_hints import hints_from_response
from shared.providers.retry_after import retry_after_s


class BudgetedTransport(httpx.AsyncBaseTransport):
    """Waits for the budget before each request; reports each 429 to it."""

    def __init__(self, budget: AccountBudget, inner: httpx.AsyncBaseTransport) -> None:
        self._budget = budget
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call = call_of(request.method, request.url.path)
        await self._budget.acquire(call)
        response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            await response.aread()  # the hint is in the body; reading it keeps it for the client
            hints = hints_from_response(response)
            hint = retry_after_s(
                hints.retry_after_header, _detail(response), hints.retry_after_body
            )
            self._budget.throttled(call, hint)
            return response
        hints = hints_from_response(response)
        if hints.remaining == 0 and hints.reset_s:
            self._budget.exhausted(call, hints.reset_s)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _detail(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return response.text or None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else None
