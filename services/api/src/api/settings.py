"""Settings of the API process, read in its composition root (`main.py`), never at import."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.media import MediaKind
from shared.model_registry import DEFAULT_MODELS
from shared.settings import BlobSettings, KafkaSettings, PostgresSettings, ProviderSettings
from shared.webhooks.settings import WebhookSettings


class DefaultModels(BaseSettings):
    """The model of each kind of asset when a request names none: `LECTUREGEN_DEFAULT_MODEL_*`."""

    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_DEFAULT_MODEL_", extra="ignore")

    image: str = DEFAULT_MODELS[MediaKind.IMAGE]
    narration: str = DEFAULT_MODELS[MediaKind.NARRATION]
    video: str = DEFAULT_MODELS[MediaKind.VIDEO]
    music: str = DEFAULT_MODELS[MediaKind.MUSIC]

    def for_kind(self, kind: MediaKind) -> str:
        model: str = getattr(self, kind.value)
        return model


class ApiSettings(BaseSettings):
    """Everything the API needs; variables are prefixed `LECTUREGEN_API_`."""

    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(), description="bearer tokens accepted on /v1 routes (comma-separated)"
    )
    source: str = Field("lecturegen/api", description="the CloudEvents `ce_source` of our events")
    heartbeat_s: float = Field(15.0, gt=0, description="seconds between SSE heartbeat comments")
    wait_for_timeout_s: float = Field(
        5.0,
        ge=0,
        description="how long a read with `?wait_for=` waits for the projector, and a "
        "stream for a lecture not projected yet",
    )
    regeneration_claim_ttl_s: float = Field(
        120.0,
        gt=0,
        description="after this long, an unprojected regeneration no longer blocks a new one",
    )
    readiness_timeout_s: float = Field(2.0, gt=0)
    pool_size: int = Field(10, ge=2, description="PostgreSQL connections of the read pool")
    kafka_timeout_ms: int = Field(
        10_000, gt=0, description="how long to wait for the broker to acknowledge an event"
    )
    max_body_bytes: int = Field(
        96 * 1024 * 1024,
        gt=0,
        description="larger request bodies get 413; the default takes a lecture at the "
        "documented text limits even when all its text is sent \\u-escaped",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="origins of other frontends allowed to call the API from a browser "
        "(comma-separated, e.g. `https://editor.example.com`); none by default",
    )
    graceful_shutdown_s: int = Field(5, ge=0, description="seconds open streams get at shutdown")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    blob: BlobSettings = Field(default_factory=BlobSettings)
    models: DefaultModels = Field(default_factory=DefaultModels)
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    """Where the webhook signing secret is asked for, unless `webhooks.secret` is set."""
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @field_validator("tokens", "cors_origins", mode="before")
    @classmethod
    def _split_tokens(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
