"""Settings read from the environment; built in each service's composition root, never at import.

Variables are prefixed `LECTUREGEN_`, except those DESIGN.md names itself
(`MEDIA_GENERATION_*`, `REPLICATE_API_TOKEN`, `KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.retry import RetryPolicy


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"LECTUREGEN_{name}", *aliases)


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)


class KafkaSettings(_Settings):
    """Where Kafka is and how lecturegen names its topics there."""

    bootstrap_servers: str = Field(
        "127.0.0.1:19092",
        validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    topic_namespace: str = Field(
        "",
        validation_alias=_env("TOPIC_NAMESPACE"),
        description="prefix of every topic name (test isolation, shared clusters)",
    )
    client_id: str = Field("lecturegen", validation_alias=_env("KAFKA_CLIENT_ID"))


class PostgresSettings(_Settings):
    """The PostgreSQL database of the views."""

    dsn: str = Field(
        "postgresql://lecturegen@127.0.0.1:55432/lecturegen",
        validation_alias=_env("DATABASE_URL", "DATABASE_URL"),
    )


class RetrySettings(_Settings):
    """The retry policy, under the names DESIGN §4 fixes."""

    max_retries: int = Field(3, ge=0, validation_alias="MEDIA_GENERATION_MAX_RETRIES")
    base_delay_s: float = Field(5.0, gt=0, validation_alias="MEDIA_GENERATION_RETRY_BASE_DELAY_S")
    backoff_factor: float = Field(
        2.0, ge=1, validation_alias="MEDIA_GENERATION_RETRY_BACKOFF_FACTOR"
    )
    max_tier_s: float = Field(300.0, gt=0, validation_alias="MEDIA_GENERATION_RETRY_MAX_TIER_S")

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries,
            base_delay_s=self.base_delay_s,
            backoff_factor=self.backoff_factor,
            max_tier_s=self.max_tier_s,
        )


class ProviderSettings(_Settings):
    """The generation provider: Replicate, or the local Replicate-compatible server."""

    api_token: SecretStr | None = Field(None, validation_alias="REPLICATE_API_TOKEN")
    base_url: str = Field(
        "https://api.replicate.com",
        validation_alias=AliasChoices("LECTUREGEN_REPLICATE_BASE_URL", "REPLICATE_BASE_URL"),
    )
    deadline_s: float = Field(
        600.0,
        gt=0,
        validation_alias=_env("PROVIDER_DEADLINE_S"),
        description="how long one attempt may take before it is cancelled",
    )
    poll_interval_s: float | None = Field(
        None,
        gt=0,
        validation_alias=_env("PROVIDER_POLL_INTERVAL_S"),
        description="a fixed interval between reads of a running prediction; unset: each "
        "medium's schedule (an image is checked sooner than a video)",
    )
    creates_per_min: float | None = Field(
        None,
        gt=0,
        validation_alias=_env("PROVIDER_CREATES_PER_MIN"),
        description="prediction creates this process may send a minute; unset: Replicate's "
        "600 shared out over LECTUREGEN_PROVIDER_ACCOUNT_SHARES",
    )
    reads_per_min: float | None = Field(
        None,
        gt=0,
        validation_alias=_env("PROVIDER_READS_PER_MIN"),
        description="other calls (reads of predictions, cancels) this process may send a "
        "minute; unset: Replicate's 3,000 shared out over LECTUREGEN_PROVIDER_ACCOUNT_SHARES",
    )
    account_shares: int = Field(
        4,
        ge=1,
        validation_alias=_env("PROVIDER_ACCOUNT_SHARES"),
        description="how many processes call the provider with the same account (default: "
        "the four media workers of one `lecturegen up`)",
    )
    allowed_output_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        ("replicate.delivery",),
        validation_alias=_env("ALLOWED_OUTPUT_HOSTS"),
        description="hosts (and their subdomains) outputs may be downloaded from",
    )
    max_output_bytes: int = Field(
        200 * 1024 * 1024, gt=0, validation_alias=_env("MAX_OUTPUT_BYTES")
    )

    @field_validator("allowed_output_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        # From the environment the hosts come as one comma-separated string (or a JSON list).
        if isinstance(value, str) and value.lstrip().startswith("["):
            return json.loads(value)
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value


class BlobSettings(_Settings):
    """Where generated media is stored."""

    backend: str = Field("filesystem", validation_alias=_env("BLOB_BACKEND"))
    root: Path = Field(Path(".local/media"), validation_alias=_env("BLOB_ROOT"))
    s3_bucket: str | None = Field(None, validation_alias=_env("BLOB_S3_BUCKET"))
    s3_endpoint_url: str | None = Field(None, validation_alias=_env("BLOB_S3_ENDPOINT_URL"))


class MetricsHostSettings(_Settings):
    """`LECTUREGEN_METRICS_HOST`: the address every service binds its `/metrics` and
    `/healthz` to, unless the service's own `*_METRICS_HOST` says otherwise."""

    host: str = Field("127.0.0.1", validation_alias=_env("METRICS_HOST"))


def metrics_host() -> str:
    """The shared metrics address, read when a service's settings are built (not at import)."""
    return MetricsHostSettings().host


Port = Annotated[int, Field(ge=0, le=65535, description="0: any free port")]
"""A TCP port a service listens on."""


class ServiceSettings(_Settings):
    """What every long-running service reads under its own prefix (`LECTUREGEN_DISPATCHER_`,
    `LECTUREGEN_IMAGE_WORKER_`, ...): where its `/metrics` and `/healthz` listen, and how much
    it logs. A subclass sets its prefix and its own default port."""

    metrics_host: str = Field(
        default_factory=metrics_host,
        description="address `/metrics` and `/healthz` bind; default `LECTUREGEN_METRICS_HOST`",
    )
    metrics_port: Port = 9100
    log_level: str = "INFO"
