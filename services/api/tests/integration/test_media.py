"""`/media/{key}` serves stored blobs with their type and honours byte ranges."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from api.settings import ApiSettings
from shared.results import StoredMedia

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
async def stored_key(app: FastAPI) -> str:
    media: StoredMedia = await app.state.runtime.blobs.put(DATA, "audio/wav")
    return media.blob_key


async def test_the_whole_file_comes_with_its_content_type(
    anonymous: httpx.AsyncClient, stored_key: str
) -> None:
    response = await anonymous.get(f"/media/{stored_key}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.content == DATA


async def test_a_range_request_gets_206_with_exactly_those_bytes(
    anonymous: httpx.AsyncClient, stored_key: str
) -> None:
    response = await anonymous.get(f"/media/{stored_key}", headers={"Range": "bytes=100-1123"})

    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1123/{len(DATA)}"
    assert response.headers["content-length"] == "1024"
    assert response.content == DATA[100:1124]


async def test_a_suffix_range_gets_the_end_of_the_file(
    anonymous: httpx.AsyncClient, stored_key: str
) -> None:
    response = await anonymous.get(f"/media/{stored_key}", headers={"Range": "bytes=-10"})

    assert response.status_code == 206
    assert response.content == DATA[-10:]


async def test_a_range_past_the_end_is_416_with_the_size(
    anonymous: httpx.AsyncClient, stored_key: str
) -> None:
    response = await anonymous.get(f"/media/{stored_key}", headers={"Range": "bytes=99999-"})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_key_is_404_problem(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/media/ab/" + "ab" + "0" * 62 + ".png")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/media/%2e%2e/secret.txt",
        "/media/ab/%2e%2e/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/{absolute}",
    ],
)
async def test_path_traversal_is_refused(
    anonymous: httpx.AsyncClient, path: str, api_settings: ApiSettings
) -> None:
    secret = api_settings.blob.root.parent / "secret.txt"
    secret.write_text("do not serve me")
    absolute = quote(str(secret), safe="")

    response = await anonymous.get(path.format(absolute=absolute))

    assert response.status_code == 404
    assert "do not serve me" not in response.text
