"""The secret webhook signatures are checked with: `LECTUREGEN_WEBHOOK_SECRET` when set, else
the one the provider serves at `GET /v1/webhooks/default/secret` (asked with
`REPLICATE_API_TOKEN` when first needed, and again when a delivery does not verify, at most every
`REFETCH_AFTER_S`, in case it was rotated)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from shared.settings import ProviderSettings
from shared.webhooks.signature import SigningSecret

REFETCH_AFTER_S = 30.0
Fetch = Callable[[], Awaitable[SigningSecret]]


class SecretUnavailableError(Exception):
    """The provider did not tell us its signing secret."""


class SigningSecrets:
    """The secret deliveries are checked with: a configured one, or the provider's."""

    def __init__(
        self,
        configured: SigningSecret | None,
        fetch: Fetch,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret = configured
        self._fixed = configured is not None
        self._fetch = fetch
        self._clock = clock
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> SigningSecret:
        if self._secret is None:
            await self._refetch()
        assert self._secret is not None
        return self._secret

    async def rotated(self) -> SigningSecret | None:
        """A different secret than the current one, if the provider now serves one (asked at
        most every `REFETCH_AFTER_S`); None otherwise."""
        old = self._secret
        recent = self._fetched_at is not None and self._clock() - self._fetched_at < REFETCH_AFTER_S
        if self._fixed or recent:
            return None
        try:
            await self._refetch()
        except SecretUnavailableError:
            return None
        return self._secret if self._secret != old else None

    async def _refetch(self) -> None:
        async with self._lock:
            self._fetched_at = self._clock()
            self._secret = await self._fetch()


def provider_secret(http: httpx.AsyncClient, provider: ProviderSettings) -> Fetch:
    """Ask the provider for its webhook signing secret."""

    async def fetch() -> SigningSecret:
        url = f"{provider.base_url.rstrip('/')}/v1/webhooks/default/secret"
        token = provider.api_token.get_secret_value() if provider.api_token else ""
        try:
            response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            return SigningSecret.parse(response.json()["key"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise SecretUnavailableError(f"cannot read the webhook secret: {exc!r}") from exc

    return fetch
