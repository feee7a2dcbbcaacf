"""Building the `Client` the generators share, and closing it.

`ReplicateError` carries no response headers and drops the body's `retry_after`, so the
client is given a response hook that remembers the last answer's `RateHints` (reading the
body of an error answer first) in a context variable: each asyncio task sees only the
answers to its own requests, so concurrent calls never mix up their hints.
"""

from __future__ import annotations

from contextvars import ContextVar

import httpx
from replicate.client import Client

from shared.providers.budget import AccountBudget
from shared.providers.budgeted_transport import BudgetedTransport
from shared.providers.rate_hints import RateHints, hints_from_response
from shared.settings import ProviderSettings

_HINTS: ContextVar[RateHints | None] = ContextVar("replicate_rate_hints", default=None)


async def _remember_rate_hints(response: httpx.Response) -> None:
    if response.status_code >= 400:
        await response.aread()  # the client reads it next anyway; the body holds `retry_after`
    _HINTS.set(hints_from_response(response))


def forget_retry_after() -> None:
    """Clear the remembered hints before a call whose answer is to be read."""
    _HINTS.set(None)


def last_rate_hints() -> RateHints | None:
    """The rate-limit hints of this task's last Replicate answer."""
    return _HINTS.get()


def last_retry_after() -> str | None:
    """The `Retry-After` header of this task's last Replicate answer, if it had one."""
    hints = _HINTS.get()
    return hints.retry_after_header if hints else None


def replicate_client(
    settings: ProviderSettings,
    *,
    timeout: httpx.Timeout | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    budget: AccountBudget | None = None,
) -> Client:
    """An async-only client for `settings` (the token is never logged or stored elsewhere).

    `transport` replaces the network (the client still wraps it in its retrying transport).
    With a `budget`, every request the client sends waits for it and every 429 slows it down.
    Close the client with `close_replicate_client`.
    """
    token = settings.api_token.get_secret_value() if settings.api_token else None
    if budget is not None:
        transport = BudgetedTransport(budget, transport or httpx.AsyncHTTPTransport())
    extra = {"transport": transport} if transport is not None else {}
    return Client(
        api_token=token,
        base_url=settings.base_url,
        timeout=timeout,
        event_hooks={"response": [_remember_rate_hints]},
        **extra,
    )


async def close_replicate_client(client: Client) -> None:
    """Close the client's connection pool (the client has no public way to do it)."""
    await client._async_client.aclose()
