"""Pytest fixtures for tests against real Kafka and PostgreSQL, available to every test folder.

Registered by the repository's root ``conftest.py``. The service fixtures are lazy: a test that
does not ask for them starts nothing.

- ``kafka_bootstrap`` / ``postgres_dsn`` (session): the address of a running broker / server.
- ``kafka_service`` / ``postgres_service`` (session): the same as an ``Endpoint`` that also says
  who provides it, for tests that must know whether they may restart it.
- ``unique_name``: a short suffix that makes topic names and group ids private to one test.
- ``pg_database``: a fresh database for one test, dropped after it; the value is its DSN.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.testing.databases import fresh_database
from shared.testing.infra import Endpoint, InfraUnavailableError, provide_kafka, provide_postgres


@pytest.fixture(scope="session")
def kafka_service() -> Iterator[Endpoint]:
    try:
        with provide_kafka() as endpoint:
            yield endpoint
    except InfraUnavailableError as exc:
        pytest.fail(f"no Kafka broker for the tests: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_service: Endpoint) -> str:
    return kafka_service.address


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[Endpoint]:
    try:
        with provide_postgres() as endpoint:
            yield endpoint
    except InfraUnavailableError as exc:
        pytest.fail(f"no PostgreSQL server for the tests: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_dsn(postgres_service: Endpoint) -> str:
    return postgres_service.address


@pytest.fixture
def unique_name() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def pg_database(postgres_dsn: str, unique_name: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_dsn, f"test_{unique_name}") as dsn:
        yield dsn
