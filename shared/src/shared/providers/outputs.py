"""Fetching a prediction's output: only from allow-listed hosts or `data:` URIs, size-capped.

The replicate client's own `FileOutput.read()` sends the API token to whatever host the output
names; we download with a separate client that carries no credentials, and only from hosts we
trust. Failures come out as `GenerationError`s:

- a host outside the allow-list is `PROVIDER_CONFIGURATION` (not retryable): the provider
  answered something our deployment does not accept, and only an operator can settle whether
  the host should be trusted; retrying would fetch the same foreign URL again;
- an output over the size cap, or of an unexpected shape, is `PROVIDER_FAILURE` (not retryable);
- network trouble while downloading is `TRANSIENT_PROVIDER_ERROR`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import httpx

from shared.errors import GenerationError
from shared.providers.classify import PROVIDER

_MAX_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Fetched:
    """Downloaded output bytes and the media type their source declared, if any."""

    data: bytes
    declared_type: str | None


def first_output(output: object) -> str:
    """The one URL (or data URI) to download: the output itself, or a list's first item."""
    item = output[0] if isinstance(output, list) and output else output
    if isinstance(item, str) and item:
        return item
    raise GenerationError.provider_failure(
        f"The prediction's output is not a file URL: {str(output)[:200]}", provider=PROVIDER
    )


def host_allowed(url: httpx.URL, allowed: Iterable[str]) -> bool:
    """Whether `url` is on an allowed host: `host` (and its subdomains, any port) or an exact
    `host:port`."""
    if url.scheme not in _DEFAULT_PORTS:
        return False
    host = url.host.lower().rstrip(".")
    port = url.port or _DEFAULT_PORTS[url.scheme]
    for entry in allowed:
        name, _, wanted_port = entry.lower().strip().rpartition(":")
        if not name or not wanted_port.isdigit():
            name, wanted_port = entry.lower().strip(), ""
        if wanted_port and int(wanted_port) != port:
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


async def fetch_output(
    url: str, client: httpx.AsyncClient, allowed: Sequence[str], max_bytes: int
) -> Fetched:
    """The bytes behind `url`, following at most a few redirects, each to an allowed host."""
    if url.startswith("data:"):
        return decode_data_uri(url, max_bytes)
    target = httpx.URL(url)
    for _ in range(_MAX_REDIRECTS + 1):
        _check_host(target, allowed)
        async with client.stream("GET", target, follow_redirects=False) as response:
            if response.is_redirect and "location" in response.headers:
                target = target.join(response.headers["location"])
                continue
            response.raise_for_status()
            data = await _read_capped(response, max_bytes)
            return Fetched(data, _media_type(response.headers.get("content-type")))
    raise GenerationError.transient(
        f"The output URL redirected more than {_MAX_REDIRECTS} times.", provider=PROVIDER
    )


def decode_data_uri(uri: str, max_bytes: int) -> Fetched:
    """The bytes of a `data:[<type>][;base64],<data>` URI."""
    header, comma, body = uri.removeprefix("data:").partition(",")
    if not comma:
        raise GenerationError.provider_failure(
            "The output is a malformed data: URI.", provider=PROVIDER
        )
    is_base64 = header.lower().endswith(";base64")
    if (len(body) * 3 // 4 if is_base64 else len(body)) > max_bytes:
        raise _too_large(max_bytes)
    try:
        data = base64.b64decode(body, validate=True) if is_base64 else unquote_to_bytes(body)
    except (binascii.Error, ValueError) as exc:
        raise GenerationError.provider_failure(
            "The output is a data: URI that does not decode.", provider=PROVIDER
        ) from exc
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return Fetched(data, _media_type(header))


def _check_host(url: httpx.URL, allowed: Sequence[str]) -> None:
    if not host_allowed(url, allowed):
        raise GenerationError.configuration(
            f"Refused to download the output from {url.scheme}://{url.netloc.decode()}: that "
            f"host is not an allowed output host ({', '.join(allowed)}). Not retried: an "
            "operator must allow the host or fix the provider setup.",
            provider=PROVIDER,
            context={"output_host": url.host},
        )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> GenerationError:
    return GenerationError.provider_failure(
        f"The output is larger than the {max_bytes} byte limit (LECTUREGEN_MAX_OUTPUT_BYTES).",
        provider=PROVIDER,
    )


def _media_type(value: str | None) -> str | None:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    return media_type or None
