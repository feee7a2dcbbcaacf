"""The projector's settings, read from the environment in the composition root only."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import KafkaSettings, Port, PostgresSettings, ServiceSettings


class ProjectorSettings(ServiceSettings):
    """`LECTUREGEN_PROJECTOR_*` variables."""

    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_PROJECTOR_", extra="ignore", populate_by_name=True
    )

    group_id: str = Field(
        "lecturegen-timeline-projector",
        description="Kafka consumer group, also the consumer name of the stored offsets",
    )
    metrics_port: Port = 9105
    batch_size: int = Field(500, ge=1, description="records per transaction while live")
    poll_timeout_ms: int = Field(500, ge=1)
    session_timeout_ms: int = Field(
        10_000, ge=1, description="how soon the group gives the partitions of a dead projector away"
    )
    rebuild_batch_size: int = Field(
        10_000, ge=1, description="records per transaction in a rebuild"
    )
    rebuild_workers: int = Field(
        2, ge=1, description="connections a rebuild applies partitions over, side by side"
    )
    rebuild_processes: int = Field(
        2,
        ge=1,
        description="processes a long replay applies partitions in, side by side (1: in process)",
    )
    rebuild_process_min_records: int = Field(
        20_000,
        ge=0,
        description="records a replay must have left before it starts processes for them",
    )
    rebuild_working_set_rows: int = Field(
        1_000_000,
        ge=0,
        description="rows a rebuild keeps in memory across batches instead of reading them back",
    )
    verify_timeout_s: float = Field(
        120.0, gt=0, description="how long a rebuild waits for the live projector to catch up"
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the projector and its rebuild need to know."""

    kafka: KafkaSettings
    postgres: PostgresSettings
    projector: ProjectorSettings

    @classmethod
    def from_env(cls) -> Settings:
        return cls(KafkaSettings(), PostgresSettings(), ProjectorSettings())
