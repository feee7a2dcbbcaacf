"""Webhook mode: where Replicate calls us, how we check it, how long a lost webhook may take."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    """Read by the workers (url, fallback poll, outstanding limit) and the API (secret)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    url: str | None = Field(
        None,
        validation_alias=AliasChoices("LECTUREGEN_WEBHOOK_URL"),
        description="the API's `POST /v1/webhooks/replicate` as Replicate reaches it; "
        "unset: workers poll instead",
    )
    secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("LECTUREGEN_WEBHOOK_SECRET"),
        description="the `whsec_...` signing secret; unset: the API asks the provider "
        "(`GET /v1/webhooks/default/secret`)",
    )
    fallback_poll_s: float = Field(
        60.0,
        gt=0,
        validation_alias=AliasChoices("LECTUREGEN_WEBHOOK_FALLBACK_POLL_S"),
        description="how long a worker waits for a webhook before it reads the prediction "
        "itself (and again after each read), in case the webhook was lost",
    )
    max_outstanding: int = Field(
        256,
        ge=1,
        validation_alias=AliasChoices("LECTUREGEN_WORKER_MAX_OUTSTANDING"),
        description="predictions one worker process waits on at once in webhook mode",
    )
