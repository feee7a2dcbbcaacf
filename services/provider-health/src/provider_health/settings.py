"""Settings of the provider-health process (`LECTUREGEN_PROVIDER_HEALTH_*`, thresholds as
`LECTUREGEN_BREAKER_*`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.health.breaker import ASSET_SAMPLE, Thresholds
from shared.settings import metrics_host

_DEFAULT = Thresholds()


class ProviderHealthSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LECTUREGEN_PROVIDER_HEALTH_", extra="ignore", populate_by_name=True
    )

    app_id: str = Field(
        "lecturegen-provider-health",
        description="the faust app id: its consumer group and the prefix of its own topics",
    )
    partitions: int = Field(4, ge=1, description="partitions of its re-keyed topic and tables")
    start_from: Literal["latest", "earliest"] = Field(
        "latest",
        description="where a new consumer group starts in the event log: health is about now",
    )
    tick_s: float = Field(1.0, gt=0, description="how often open circuits are checked")
    data_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "lecturegen-provider-health"
    )
    metrics_host: str = Field(
        default_factory=metrics_host, description="default `LECTUREGEN_METRICS_HOST`"
    )
    metrics_port: int = Field(9106, ge=0, le=65535, description="0: any free port")
    log_level: str = "INFO"


class BreakerSettings(BaseSettings):
    """The breaker's thresholds (decision 0019 says why these defaults)."""

    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_BREAKER_", extra="ignore")

    window_s: float = Field(_DEFAULT.window_s, gt=0)
    step_s: float = Field(_DEFAULT.step_s, gt=0)
    min_assets: int = Field(
        _DEFAULT.min_assets,
        ge=1,
        le=ASSET_SAMPLE,
        description="distinct assets tried in the window before their failing share counts",
    )
    failure_rate: float = Field(
        _DEFAULT.failure_rate,
        gt=0,
        le=1,
        description="share of the window's distinct assets that failed at which it opens",
    )
    min_fresh_assets: int = Field(
        _DEFAULT.min_fresh_assets,
        ge=1,
        description="distinct assets failed since the circuit last closed that opening needs",
    )
    open_for_s: float = Field(_DEFAULT.open_for_s, gt=0)
    probes: int = Field(_DEFAULT.probes, ge=1)

    def thresholds(self) -> Thresholds:
        return Thresholds(**self.model_dump())
