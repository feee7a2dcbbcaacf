"""Fixtures: the server running in-process under uvicorn on a free port, and real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import replicate
from replicate_sim.server import serve_in_background
from replicate_sim.settings import Settings

POLL_INTERVAL_S = 0.02


@pytest.fixture
def settings() -> Settings:
    """Override in a test module to run the server with other settings."""
    return Settings(port=0, default_latency_s=0.05)


@pytest.fixture
async def base_url(settings: Settings) -> AsyncIterator[str]:
    async with serve_in_background(settings) as url:
        yield url


@pytest.fixture
async def make_client(base_url: str) -> AsyncIterator[Callable[..., replicate.Client]]:
    """Real `replicate` clients pointed at the server; closed after the test."""
    made: list[replicate.Client] = []

    def make(**kwargs: object) -> replicate.Client:
        client = replicate.Client(api_token="t", base_url=base_url, **kwargs)
        client.poll_interval = POLL_INTERVAL_S
        made.append(client)
        return client

    yield make
    for client in made:
        await client._async_client.aclose()


@pytest.fixture
def client(make_client: Callable[..., replicate.Client]) -> replicate.Client:
    return make_client()


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client, for what the `replicate` client hides (headers, raw bodies)."""
    headers = {"Authorization": "Bearer t"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as raw:
        yield raw
