"""Settings of the video worker: `LECTUREGEN_VIDEO_WORKER_*` variables, metrics on port 9103."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import Port
from shared.worker import WorkerSettings


class VideoWorkerSettings(WorkerSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_VIDEO_WORKER_", extra="ignore", populate_by_name=True
    )

    metrics_port: Port = 9103
