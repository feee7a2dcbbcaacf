"""Settings of the dispatcher process (`LECTUREGEN_DISPATCHER_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import metrics_host


class DispatcherSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_DISPATCHER_", extra="ignore", populate_by_name=True
    )

    group_id: str = "lecturegen-dispatcher"
    max_batch: int = Field(500, ge=1, description="events read, dispatched and committed at once")
    session_timeout_ms: int = Field(10_000, ge=1000)
    metrics_host: str = Field(
        default_factory=metrics_host, description="default `LECTUREGEN_METRICS_HOST`"
    )
    metrics_port: int = Field(9100, ge=0, le=65535, description="0: any free port")
    log_level: str = "INFO"
