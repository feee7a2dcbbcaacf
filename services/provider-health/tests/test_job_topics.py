"""The topics faust makes for the job itself."""

from __future__ import annotations

from pathlib import Path

from provider_health.job import build
from provider_health.metrics import HealthMetrics
from provider_health.settings import BreakerSettings, ProviderHealthSettings
from shared.settings import KafkaSettings


def test_the_jobs_own_topics_get_the_replication_factor_it_is_given(tmp_path: Path) -> None:
    # a cluster with min.insync.replicas 2 refuses writes to a topic of fewer replicas
    app = build(
        ProviderHealthSettings(data_dir=tmp_path),
        BreakerSettings().thresholds(),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        HealthMetrics(),
        replication_factor=3,
    )
    assert app.conf.topic_replication_factor == 3
