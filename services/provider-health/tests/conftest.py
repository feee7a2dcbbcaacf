"""Fixtures of the provider-health tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_health.testing import HealthProcess


@pytest.fixture
def health_process(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> Iterator[HealthProcess]:
    process = HealthProcess(kafka_bootstrap, f"t{unique_name}.", tmp_path)
    try:
        yield process
    finally:
        process.kill()
