"""Fixtures of the API tests: an app wired to a fresh database and private topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api.app import create_app
from api.settings import ApiSettings
from fastapi import FastAPI
from shared.settings import BlobSettings, KafkaSettings, PostgresSettings

TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def api_settings(
    pg_database: str, kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> ApiSettings:
    return ApiSettings(
        tokens=TOKEN,
        heartbeat_s=0.5,
        wait_for_timeout_s=10,
        kafka=KafkaSettings(
            bootstrap_servers=kafka_bootstrap,
            topic_namespace=f"t{unique_name}.",
            client_id=f"api-test-{unique_name}",
        ),
        postgres=PostgresSettings(dsn=pg_database),
        blob=BlobSettings(root=tmp_path / "media"),
    )


@pytest.fixture
async def app(api_settings: ApiSettings) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=AUTH) as c:
        yield c


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c
