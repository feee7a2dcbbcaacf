"""Blobs as objects in an S3-compatible bucket, for deployments past one machine (DESIGN §10).

Path-style addressing (`<endpoint>/<bucket>/<prefix><key>`), which AWS, MinIO, Ceph and the
other S3-compatible services all accept. Requests are signed with `sigv4`; the HTTP client is
the caller's, so its pool and timeouts are configured (and closed) in the composition root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from shared.blobstore.describe import BlobNotFoundError, BlobStoreError, check_range, describe
from shared.blobstore.keys import content_type_of, is_valid_key
from shared.blobstore.sigv4 import EMPTY_SHA256, Credentials, sign
from shared.ports import BlobInfo
from shared.results import StoredMedia


def _utc_now() -> datetime:
    return datetime.now(UTC)


class S3BlobStore:
    """A `BlobStore` over the S3 object API: PUT to store, HEAD to stat, ranged GET to read."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        endpoint_url: str,
        bucket: str,
        credentials: Credentials,
        region: str = "us-east-1",
        prefix: str = "",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = client
        self._bucket_url = httpx.URL(endpoint_url.rstrip("/") + "/" + bucket)
        self._credentials = credentials
        self._region = region
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._clock = clock

    async def create_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        response = await self._send("PUT", self._bucket_url)
        if response.status_code not in (200, 409):
            raise _failure(response)

    async def put(self, data: bytes, content_type: str) -> StoredMedia:
        media = describe(data, content_type)
        response = await self._send(
            "PUT", self._url(media.blob_key), data, {"content-type": media.content_type}
        )
        if response.status_code != 200:
            raise _failure(response)
        return media

    async def stat(self, key: str) -> BlobInfo | None:
        if not is_valid_key(key):
            return None
        response = await self._send("HEAD", self._url(key))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _failure(response)
        size = int(response.headers["content-length"])
        return BlobInfo(key=key, content_type=content_type_of(key), size_bytes=size)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        check_range(start, end)
        if not is_valid_key(key):
            raise BlobNotFoundError(key)
        if end == start:  # an empty range has no Range header form: just check the blob exists
            if await self.stat(key) is None:
                raise BlobNotFoundError(key)
            return b""
        wanted = {} if start == 0 and end is None else {"range": _range(start, end)}
        response = await self._send("GET", self._url(key), headers=wanted)
        if response.status_code == 404:
            raise BlobNotFoundError(key)
        if response.status_code == 416:  # starts at or past the end
            return b""
        if response.status_code not in (200, 206):
            raise _failure(response)
        return response.content

    def _url(self, key: str) -> httpx.URL:
        return self._bucket_url.copy_with(path=f"{self._bucket_url.path}/{self._prefix}{key}")

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        digest = hashlib.sha256(content).hexdigest() if content else EMPTY_SHA256
        signed = sign(
            method, url, headers or {}, digest, self._credentials, self._region, self._clock()
        )
        try:
            return await self._client.request(method, url, content=content or None, headers=signed)
        except httpx.HTTPError as exc:
            raise BlobStoreError(f"{method} {url.path}: {type(exc).__name__}: {exc}") from exc


def _range(start: int, end: int | None) -> str:
    return f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"


def _failure(response: httpx.Response) -> BlobStoreError:
    return BlobStoreError(
        f"{response.request.method} {response.request.url.path} answered "
        f"HTTP {response.status_code}: {response.text[:200]}"
    )
