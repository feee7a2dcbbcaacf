"""Building the `Client` the generators share, and closing it.

`ReplicateError` carries no response headers, so the client is given a response hook that
remembers the last `Retry-After` header in a context variable: each asyncio task sees only
the answers to its own requests, so concurrent calls never mix up their hints.
"""

from __future__ import annotations

from contextvars import ContextVar

import httpx
from replicate.client import Client

from shared.settings import ProviderSettings

_RETRY_AFTER: ContextVar[str | None] = ContextVar("replicate_retry_after", default=None)


async def _remember_retry_after(response: httpx.Response) -> None:
    _RETRY_AFTER.set(response.headers.get("Retry-After"))


def forget_retry_after() -> None:
    """Clear the remembered header before a call whose answer is to be read."""
    _RETRY_AFTER.set(None)


def last_retry_after() -> str | None:
    """The `Retry-After` header of this task's last Replicate answer, if it had one."""
    return _RETRY_AFTER.get()


def replicate_client(
    settings: ProviderSettings,
    *,
    timeout: httpx.Timeout | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Client:
    """An async-only client for `settings` (the token is never logged or stored elsewhere).

    `transport` replaces the network (the client still wraps it in its retrying transport).
    Close the client with `close_replicate_client`.
    """
    token = settings.api_token.get_secret_value() if settings.api_token else None
    extra = {"transport": transport} if transport is not None else {}
    return Client(
        api_token=token,
        base_url=settings.base_url,
        timeout=timeout,
        event_hooks={"response": [_remember_retry_after]},
        **extra,
    )


async def close_replicate_client(client: Client) -> None:
    """Close the client's connection pool (the client has no public way to do it)."""
    await client._async_client.aclose()
