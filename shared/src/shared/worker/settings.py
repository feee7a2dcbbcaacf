"""Settings of a media worker process (`LECTUREGEN_<MEDIUM>_WORKER_*`).

Each worker package subclasses `WorkerSettings` with its own prefix and metrics port, e.g.
`LECTUREGEN_IMAGE_WORKER_MAX_IN_FLIGHT=64`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.media import MediaKind
from shared.settings import ServiceSettings


def default_group(kind: MediaKind) -> str:
    """The consumer group of `kind`'s workers unless `*_GROUP_ID` names another."""
    return f"lecturegen-{kind.value}-worker"


class WorkerSettings(ServiceSettings):
    """How one worker process consumes, calls the provider and reports."""

    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_WORKER_", extra="ignore", populate_by_name=True
    )

    max_in_flight: int = Field(32, ge=1, description="provider calls running at once")
    max_buffered_per_partition: int = Field(
        500, ge=1, description="records held per partition (fetched or running) before it is paused"
    )
    group_id: str | None = Field(
        None, description="consumer group; default `lecturegen-<medium>-worker`"
    )
    shutdown_grace_s: float = Field(
        30.0, ge=0, description="on SIGTERM, how long running calls may take to finish"
    )
    rebalance_drain_s: float = Field(
        20.0, ge=0, description="at a rebalance, how long revoked partitions' calls may finish"
    )
    commit_interval_s: float = Field(
        0.2, ge=0, description="shortest time between two offset commits"
    )
    session_timeout_ms: int = Field(
        10_000, ge=1000, description="how soon the group notices a worker that died"
    )

    def group(self, kind: MediaKind) -> str:
        """The consumer group this worker of `kind` joins."""
        return self.group_id or default_group(kind)
