"""Settings of the narration worker: `LECTUREGEN_AUDIO_WORKER_*` variables, metrics on port 9102."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import Port
from shared.worker import WorkerSettings


class NarrationWorkerSettings(WorkerSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_AUDIO_WORKER_", extra="ignore", populate_by_name=True
    )

    metrics_port: Port = 9102
