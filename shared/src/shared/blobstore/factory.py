"""Choosing the blob store a service runs with, from its settings (call in the composition root).

`LECTUREGEN_BLOB_BACKEND=filesystem` (the default) stores under `LECTUREGEN_BLOB_ROOT`;
`s3` stores in `LECTUREGEN_BLOB_S3_BUCKET` at `LECTUREGEN_BLOB_S3_ENDPOINT_URL` (AWS's regional
endpoint when unset), with credentials and region under AWS's own variable names.
"""

from __future__ import annotations

import httpx
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.blobstore.filesystem import FilesystemBlobStore
from shared.blobstore.s3 import S3BlobStore
from shared.blobstore.sigv4 import Credentials
from shared.ports import BlobStore
from shared.settings import BlobSettings


class S3Access(BaseSettings):
    """Credentials, region and key prefix of the S3 store."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    access_key_id: SecretStr = Field(validation_alias="AWS_ACCESS_KEY_ID")
    secret_access_key: SecretStr = Field(validation_alias="AWS_SECRET_ACCESS_KEY")
    session_token: SecretStr | None = Field(None, validation_alias="AWS_SESSION_TOKEN")
    region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    prefix: str = Field("", validation_alias="LECTUREGEN_BLOB_S3_PREFIX")

    def credentials(self) -> Credentials:
        token = self.session_token.get_secret_value() if self.session_token else None
        return Credentials(
            self.access_key_id.get_secret_value(), self.secret_access_key.get_secret_value(), token
        )


def open_blob_store(
    settings: BlobSettings,
    http: httpx.AsyncClient | None = None,
    s3_access: S3Access | None = None,
) -> BlobStore:
    """The configured store. The S3 store needs `http` (its caller owns and closes it) and
    reads `S3Access` from the environment unless given one."""
    if settings.backend == "filesystem":
        return FilesystemBlobStore(settings.root)
    if settings.backend != "s3":
        raise ValueError(f"unknown blob backend {settings.backend!r}: use filesystem or s3")
    if not settings.s3_bucket or http is None:
        raise ValueError("the s3 blob backend needs LECTUREGEN_BLOB_S3_BUCKET and an HTTP client")
    access = s3_access or S3Access()
    endpoint = settings.s3_endpoint_url or f"https://s3.{access.region}.amazonaws.com"
    return S3BlobStore(
        http,
        endpoint_url=endpoint,
        bucket=settings.s3_bucket,
        credentials=access.credentials(),
        region=access.region,
        prefix=access.prefix,
    )
