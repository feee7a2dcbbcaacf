"""One contract, run against every `BlobStore`: the in-memory fake, the filesystem store and the
S3 store (against moto's S3-compatible server), so none of them can drift from the others."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from shared.blobstore import BlobNotFoundError, Credentials, FilesystemBlobStore, S3BlobStore
from shared.ports import BlobStore
from shared.testing.fakes import InMemoryBlobStore

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
MOTO_START_TIMEOUT_S = 30.0


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * round(seconds * rate))
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone S3-compatible server, started once for the session."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(port, process)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + MOTO_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("moto server exited at start")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("moto server did not start listening")


@pytest.fixture(params=["memory", "filesystem", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "memory":
        yield InMemoryBlobStore()
    elif request.param == "filesystem":
        yield FilesystemBlobStore(tmp_path / "media")
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        async with httpx.AsyncClient(timeout=10) as client:
            s3 = S3BlobStore(
                client,
                endpoint_url=endpoint,
                bucket=f"media-{uuid.uuid4().hex[:12]}",
                credentials=Credentials("testing", "testing-secret"),
                prefix="lectures/",
            )
            await s3.create_bucket()
            yield s3


async def test_put_names_the_blob_by_its_content_and_type(store: BlobStore) -> None:
    media = await store.put(PNG, "image/png")
    digest = hashlib.sha256(PNG).hexdigest()
    assert media.blob_key == f"{digest[:2]}/{digest}.png"
    assert (media.content_type, media.size_bytes, media.duration_s) == ("image/png", len(PNG), None)


async def test_storing_the_same_bytes_twice_gives_the_same_key_and_keeps_them(
    store: BlobStore,
) -> None:
    first = await store.put(PNG, "image/png")
    second = await store.put(PNG, "image/png")
    assert first == second
    assert await store.read(first.blob_key) == PNG


async def test_the_same_bytes_as_another_type_are_another_blob(store: BlobStore) -> None:
    as_png = await store.put(PNG, "image/png")
    as_bin = await store.put(PNG, "application/x-unknown")
    assert as_png.blob_key != as_bin.blob_key
    assert as_bin.content_type == "application/octet-stream"


async def test_content_type_aliases_are_normalised(store: BlobStore) -> None:
    media = await store.put(wav_bytes(0.5), "audio/x-wav; codecs=1")
    assert media.content_type == "audio/wav"
    assert media.blob_key.endswith(".wav")


async def test_audio_is_stored_with_its_playing_time(store: BlobStore) -> None:
    media = await store.put(wav_bytes(1.5), "audio/wav")
    assert media.duration_s == pytest.approx(1.5)


async def test_stat_tells_type_and_size_from_the_key(store: BlobStore) -> None:
    media = await store.put(PNG, "image/png")
    info = await store.stat(media.blob_key)
    assert info is not None
    assert (info.key, info.content_type, info.size_bytes) == (media.blob_key, "image/png", len(PNG))


@pytest.mark.parametrize(
    "key",
    [
        "00/" + "0" * 64 + ".png",
        "../etc/passwd",
        "/etc/passwd",
        "ab/../../" + "a" * 64 + ".png",
        "ab/" + "c" * 64 + ".png",
        "",
    ],
)
async def test_stat_of_an_unknown_or_malformed_key_is_none(store: BlobStore, key: str) -> None:
    assert await store.stat(key) is None


@pytest.mark.parametrize("key", ["00/" + "0" * 64 + ".png", "../etc/passwd", "ab/../x.png"])
async def test_reading_an_unknown_or_malformed_key_raises_not_found(
    store: BlobStore, key: str
) -> None:
    with pytest.raises(BlobNotFoundError):
        await store.read(key)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, PNG),
        (0, 8, PNG[:8]),
        (8, 20, PNG[8:20]),
        (10, None, PNG[10:]),
        (len(PNG) - 4, len(PNG) + 100, PNG[-4:]),
        (len(PNG), None, b""),
        (len(PNG) + 10, None, b""),
        (5, 5, b""),
    ],
)
async def test_reads_return_the_asked_byte_range(
    store: BlobStore, start: int, end: int | None, expected: bytes
) -> None:
    media = await store.put(PNG, "image/png")
    assert await store.read(media.blob_key, start, end) == expected


@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 5)])
async def test_impossible_ranges_are_refused(store: BlobStore, start: int, end: int | None) -> None:
    media = await store.put(PNG, "image/png")
    with pytest.raises(ValueError, match="range"):
        await store.read(media.blob_key, start, end)


async def test_an_empty_range_of_a_missing_blob_is_still_not_found(store: BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        await store.read("00/" + "0" * 64 + ".png", 3, 3)


# --- what only the filesystem store can show ---------------------------------------------------


async def test_the_filesystem_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    media = await store.put(PNG, "image/png")
    assert _files_under(tmp_path) == [media.blob_key]


async def test_the_filesystem_store_never_reads_outside_its_root(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    store = FilesystemBlobStore(tmp_path / "media")
    assert await store.stat("../secret.png") is None
    with pytest.raises(BlobNotFoundError):
        await store.read("../secret.png")


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
