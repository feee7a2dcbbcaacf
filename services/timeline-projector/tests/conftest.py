"""Fixtures of the projector's tests: each test gets its own log, group and database."""

from __future__ import annotations

import pytest

from timeline_projector.config import Settings
from timeline_projector.testing import Projection, make_settings


@pytest.fixture
def settings(kafka_bootstrap: str, pg_database: str, unique_name: str) -> Settings:
    return make_settings(kafka_bootstrap, pg_database, unique_name)


@pytest.fixture
async def projection(settings: Settings) -> Projection:
    projection = Projection(settings)
    await projection.create_topic()
    return projection
