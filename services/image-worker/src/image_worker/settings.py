"""Settings of the image worker: `LECTUREGEN_IMAGE_WORKER_*` variables, metrics on port 9101."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import Port
from shared.worker import WorkerSettings


class ImageWorkerSettings(WorkerSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_IMAGE_WORKER_", extra="ignore", populate_by_name=True
    )

    metrics_port: Port = 9101
