"""Fixtures: the server running in-process under uvicorn on a free port, and real clients."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import replicate

from replicate_sim.server import serve_in_background, serve_in_thread
from replicate_sim.settings import SimSettings

POLL_INTERVAL_S = 0.02


SHARED_SETTINGS = SimSettings(port=0, default_latency_s=0.05)


@pytest.fixture(scope="session")
def shared_base_url() -> Iterator[str]:
    """One server for the whole session, in a background thread with its own event loop:
    starting and stopping uvicorn for every test would cost ~0.2 s each."""
    with serve_in_thread(SHARED_SETTINGS) as url:
        yield url


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    """One TLS context for every client: httpx builds a fresh one per client otherwise, which
    costs more than a whole test here (no request in these tests uses TLS)."""
    return ssl.create_default_context()


@pytest.fixture
def settings() -> SimSettings | None:
    """Override (in a test class or module) to run a server of the test's own with these."""
    return None


@pytest.fixture
async def sim_url(
    settings: SimSettings | None, tls: ssl.SSLContext, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The shared server, reset before the test, or a fresh in-loop one with `settings`."""
    if settings is None:
        url: str = request.getfixturevalue("shared_base_url")
        async with httpx.AsyncClient(verify=tls, trust_env=False) as raw:
            (await raw.post(f"{url}/sim/reset")).raise_for_status()
        yield url
        return
    async with serve_in_background(settings) as url:
        yield url


@pytest.fixture
async def make_client(
    sim_url: str, tls: ssl.SSLContext
) -> AsyncIterator[Callable[..., replicate.Client]]:
    """Real `replicate` clients pointed at the server; closed after the test."""
    made: list[replicate.Client] = []

    def make(api_token: str = "t", timeout: httpx.Timeout | None = None) -> replicate.Client:
        transport = httpx.AsyncHTTPTransport(verify=tls)
        client = replicate.Client(
            api_token, base_url=sim_url, timeout=timeout, transport=transport, trust_env=False
        )
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
async def http(sim_url: str, tls: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client, for what the `replicate` client hides (headers, raw bodies).

    Clients here ignore proxy variables: the server is always on the loopback interface."""
    headers = {"Authorization": "Bearer t"}
    async with httpx.AsyncClient(base_url=sim_url, headers=headers, timeout=10, verify=tls) as raw:
        yield raw
