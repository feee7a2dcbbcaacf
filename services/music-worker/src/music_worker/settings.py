"""Settings of the music worker: `LECTUREGEN_MUSIC_WORKER_*` variables, metrics on port 9104."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import Port
from shared.worker import WorkerSettings


class MusicWorkerSettings(WorkerSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_MUSIC_WORKER_", extra="ignore", populate_by_name=True
    )

    metrics_port: Port = 9104
