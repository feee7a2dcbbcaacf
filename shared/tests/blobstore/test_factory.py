from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.blobstore import FilesystemBlobStore, S3Access, S3BlobStore, open_blob_store
from shared.settings import BlobSettings

ACCESS = S3Access(access_key_id="AKID", secret_access_key="SECRET", region="eu-west-1")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def test_the_filesystem_store_is_the_default(tmp_path: Path) -> None:
    store = open_blob_store(BlobSettings(root=tmp_path))
    assert isinstance(store, FilesystemBlobStore)
    assert store.root == tmp_path


def test_the_s3_backend_gives_an_s3_store(http: httpx.AsyncClient) -> None:
    settings = BlobSettings(backend="s3", s3_bucket="media", s3_endpoint_url="http://127.0.0.1:9")
    assert isinstance(open_blob_store(settings, http, ACCESS), S3BlobStore)


def test_s3_credentials_and_region_come_from_awss_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SKENV")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    access = S3Access()
    assert access.credentials().access_key_id == "AKENV"
    assert access.region == "ap-south-1"


@pytest.mark.parametrize(
    "settings",
    [BlobSettings(backend="s3"), BlobSettings(backend="gcs", s3_bucket="media")],
)
def test_an_incomplete_or_unknown_backend_is_refused(
    settings: BlobSettings, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ValueError, match="blob backend"):
        open_blob_store(settings, http, ACCESS)
