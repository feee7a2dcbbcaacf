from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.errors import ErrorCode, GenerationError
from shared.providers.outputs import decode_data_uri, fetch_output, first_output, host_allowed

ALLOWED = ("replicate.delivery", "127.0.0.1:8080")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


class InMemoryFileHost:
    """File hosts answering from a dict of URL → response."""

    def __init__(self) -> None:
        self.routes: dict[str, httpx.Response] = {}
        self.requested: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(str(request.url))
        return self.routes.get(str(request.url), httpx.Response(404))


@pytest.fixture
def host() -> InMemoryFileHost:
    return InMemoryFileHost()


@pytest.fixture
async def client(host: InMemoryFileHost) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(host.handle)) as downloads:
        yield downloads


# --- which output, and from where ----------------------------------------------------------


def test_a_list_output_gives_its_first_item() -> None:
    assert first_output(["https://a/1.png", "https://a/2.png"]) == "https://a/1.png"
    assert first_output("https://a/x.mp3") == "https://a/x.mp3"


@pytest.mark.parametrize("output", [[], {"audio": "https://a/x"}, 42, [None], ""])
def test_an_output_that_is_no_file_url_is_a_provider_failure(output: object) -> None:
    with pytest.raises(GenerationError) as raised:
        first_output(output)
    assert raised.value.code is ErrorCode.PROVIDER_FAILURE


@pytest.mark.parametrize(
    "url",
    [
        "https://replicate.delivery/pbxt/abc/out.png",
        "https://pbxt.replicate.delivery/abc/out.png",
        "http://127.0.0.1:8080/files/1",
        "https://REPLICATE.DELIVERY./x",
    ],
)
def test_allowed_hosts_and_their_subdomains_pass(url: str) -> None:
    assert host_allowed(httpx.URL(url), ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/files/1",
        "https://evilreplicate.delivery/x",
        "https://replicate.delivery.evil.com/x",
        "http://127.0.0.1:9999/files/1",
        "http://127.0.0.2:8080/files/1",
        "ftp://replicate.delivery/x",
        "file:///etc/passwd",
    ],
)
def test_every_other_host_port_or_scheme_is_refused(url: str) -> None:
    assert not host_allowed(httpx.URL(url), ALLOWED)


# --- data: URIs ---------------------------------------------------------------------------


def test_a_base64_data_uri_decodes_with_its_type() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    fetched = decode_data_uri(uri, 10_000)
    assert (fetched.data, fetched.declared_type) == (PNG, "image/png")


def test_a_percent_encoded_data_uri_decodes() -> None:
    fetched = decode_data_uri("data:text/plain,hello%20world", 100)
    assert (fetched.data, fetched.declared_type) == (b"hello world", "text/plain")


def test_a_data_uri_over_the_size_cap_is_refused_before_decoding() -> None:
    uri = "data:audio/wav;base64," + base64.b64encode(b"x" * 1000).decode()
    with pytest.raises(GenerationError) as raised:
        decode_data_uri(uri, 100)
    assert raised.value.code is ErrorCode.PROVIDER_FAILURE
    assert not raised.value.retryable


@pytest.mark.parametrize("uri", ["data:image/png;base64", "data:image/png;base64,@@@notbase64"])
def test_a_malformed_data_uri_is_a_provider_failure(uri: str) -> None:
    with pytest.raises(GenerationError) as raised:
        decode_data_uri(uri, 1000)
    assert raised.value.code is ErrorCode.PROVIDER_FAILURE


# --- downloads ----------------------------------------------------------------------------


async def test_a_file_on_an_allowed_host_is_downloaded_with_its_declared_type(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    url = "https://replicate.delivery/a/out.png"
    host.routes[url] = httpx.Response(200, content=PNG, headers={"content-type": "image/png"})
    fetched = await fetch_output(url, client, ALLOWED, 10_000)
    assert (fetched.data, fetched.declared_type) == (PNG, "image/png")


async def test_a_foreign_host_is_never_contacted(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    with pytest.raises(GenerationError) as raised:
        await fetch_output("https://evil.example.com/files/1", client, ALLOWED, 10_000)
    assert raised.value.code is ErrorCode.PROVIDER_CONFIGURATION
    assert not raised.value.retryable
    assert "evil.example.com" in raised.value.message
    assert host.requested == []


async def test_a_redirect_within_allowed_hosts_is_followed(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    first, final = "https://replicate.delivery/a", "https://pbxt.replicate.delivery/b.png"
    host.routes[first] = httpx.Response(302, headers={"location": final})
    host.routes[final] = httpx.Response(200, content=PNG)
    assert (await fetch_output(first, client, ALLOWED, 10_000)).data == PNG


async def test_a_redirect_to_a_foreign_host_is_refused(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    start = "https://replicate.delivery/a"
    host.routes[start] = httpx.Response(302, headers={"location": "https://evil.example.com/x"})
    with pytest.raises(GenerationError) as raised:
        await fetch_output(start, client, ALLOWED, 10_000)
    assert raised.value.code is ErrorCode.PROVIDER_CONFIGURATION
    assert host.requested == [start]


async def test_endless_redirects_give_up(host: InMemoryFileHost, client: httpx.AsyncClient) -> None:
    loop = "https://replicate.delivery/loop"
    host.routes[loop] = httpx.Response(302, headers={"location": loop})
    with pytest.raises(GenerationError) as raised:
        await fetch_output(loop, client, ALLOWED, 10_000)
    assert raised.value.code is ErrorCode.TRANSIENT_PROVIDER_ERROR


async def test_a_declared_length_over_the_cap_is_refused(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    url = "https://replicate.delivery/big.mp4"
    host.routes[url] = httpx.Response(200, content=b"x" * 500)
    with pytest.raises(GenerationError) as raised:
        await fetch_output(url, client, ALLOWED, 100)
    assert raised.value.code is ErrorCode.PROVIDER_FAILURE
    assert "100 byte limit" in raised.value.message


async def test_a_stream_without_a_length_is_cut_at_the_cap(
    host: InMemoryFileHost, client: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 50

    url = "https://replicate.delivery/stream.wav"
    host.routes[url] = httpx.Response(200, content=chunks())
    with pytest.raises(GenerationError) as raised:
        await fetch_output(url, client, ALLOWED, 120)
    assert raised.value.code is ErrorCode.PROVIDER_FAILURE


async def test_an_http_error_from_the_file_host_is_raised_for_classification(
    client: httpx.AsyncClient,
) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        await fetch_output("https://replicate.delivery/missing", client, ALLOWED, 100)
