"""Settings of the dispatcher process (`LECTUREGEN_DISPATCHER_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DispatcherSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_DISPATCHER_", extra="ignore", populate_by_name=True
    )

    group_id: str = "lecturegen-dispatcher"
    max_batch: int = Field(500, ge=1, description="events read, dispatched and committed at once")
    session_timeout_ms: int = Field(10_000, ge=1000)
