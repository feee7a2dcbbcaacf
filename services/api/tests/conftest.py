"""Fixtures of the API tests.

The tests of one module share a fresh database, a private topic namespace and (when they ask
for it) one projector process; every test gets its own app and creates its own lectures, so
tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.settings import ApiSettings
from shared import topics
from shared.envelope import encode, envelop
from shared.errors import ErrorCode, ErrorInfo
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetRetrying,
    MediaRef,
    Payload,
)
from shared.kafka import make_producer
from shared.settings import BlobSettings, KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database

TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture(scope="module")
def module_name() -> str:
    return uuid.uuid4().hex[:12]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_database(postgres_dsn: str, module_name: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_dsn, f"api_{module_name}") as dsn:
        yield dsn


@pytest.fixture
def api_settings(
    module_database: str, kafka_bootstrap: str, module_name: str, tmp_path: Path
) -> ApiSettings:
    return ApiSettings(
        tokens=TOKEN,
        heartbeat_s=0.5,
        wait_for_timeout_s=10,
        kafka=KafkaSettings(
            bootstrap_servers=kafka_bootstrap,
            topic_namespace=f"t{module_name}.",
            client_id=f"api-test-{module_name}",
        ),
        postgres=PostgresSettings(dsn=module_database),
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


@pytest.fixture
async def live_api(api_settings: ApiSettings) -> AsyncIterator[str]:
    """The API served by uvicorn on a free local port (streams need a real server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(api_settings),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
        sock.close()


@contextmanager
def serve_in_thread(settings: ApiSettings) -> Iterator[str]:
    """The API under uvicorn in its own thread and event loop, for blocking tests
    (hypothesis); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), log_config=None, access_log=False, timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        started = threading.Event()
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            started.wait(0.05)
        assert server.started, "the API did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def projector(
    module_database: str,
    kafka_bootstrap: str,
    module_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The real timeline projector, as its own process, on this module's database and topics."""
    env = {
        **os.environ,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "LECTUREGEN_TOPIC_NAMESPACE": f"t{module_name}.",
        "DATABASE_URL": module_database,
        "LECTUREGEN_PROJECTOR_GROUP_ID": f"projector-{module_name}",
        "LECTUREGEN_PROJECTOR_METRICS_PORT": "0",
        "LECTUREGEN_PROJECTOR_POLL_TIMEOUT_MS": "100",
    }
    log_path = tmp_path_factory.mktemp("projector") / "projector.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "lecturegen-timeline-projector"),
            env=env,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await _wait_for_read_model(module_database, process, log_path)
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    async with asyncio.timeout(15):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _wait_for_read_model(
    dsn: str, process: asyncio.subprocess.Process, log_path: Path
) -> None:
    async with asyncio.timeout(60):
        while True:
            if process.returncode is not None:
                tail = log_path.read_text()[-2000:]  # noqa: ASYNC240 - failure path only
                raise RuntimeError(f"the projector exited: {tail}")
            conn = await asyncpg.connect(dsn)
            try:
                await conn.fetchval("SELECT generation FROM lecturegen_read.current_generation")
                return
            except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
                await asyncio.sleep(0.1)
            finally:
                await conn.close()


Emit = Callable[[Payload], Awaitable[str]]


@pytest.fixture
async def emit(api_settings: ApiSettings) -> AsyncIterator[Emit]:
    """Append an event to this test's event log, as a worker would; returns its event id."""
    producer = make_producer(api_settings.kafka)
    await producer.start()
    topic = topics.events(api_settings.kafka.topic_namespace)

    async def send(payload: Payload) -> str:
        envelope = envelop(payload, "tests/api")
        value, headers = encode(envelope)
        key = getattr(payload, "lecture_id", "").encode()
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        return envelope.id

    try:
        yield send
    finally:
        await producer.stop()


class AssetEvents:
    """Builds the events a worker emits about one asset (see `shared.events`)."""

    def __init__(self, lecture_id: str, asset: dict[str, Any], prompt: str = "p") -> None:
        self.base = {
            "lecture_id": lecture_id,
            "asset_id": asset["asset_id"],
            "kind": asset["kind"],
            "segment_id": asset["segment_id"],
        }
        self.prompt = prompt

    def started(self, attempt: int, version: int = 1) -> AssetAttemptStarted:
        return AssetAttemptStarted(
            **self.base, prompt_version=version, attempt=attempt, started_at=datetime.now(UTC)
        )

    def retrying(self, attempt: int, version: int = 1) -> AssetRetrying:
        return AssetRetrying(
            **self.base,
            prompt_version=version,
            attempt=attempt,
            retried_count=attempt,
            delay_s=5,
            next_attempt_at=datetime.now(UTC),
            error=ERROR_TRANSIENT,
        )

    def failed(
        self, version: int = 1, error: ErrorInfo | None = None, attempts: int = 1
    ) -> AssetFailed:
        return AssetFailed(
            **self.base,
            prompt_version=version,
            error=error or ERROR_SENSITIVE,
            prompt=self.prompt,
            model="acme/model",
            retried_count=attempts - 1,
            attempts=attempts,
        )

    def generated(self, blob_key: str, version: int = 1) -> AssetGenerated:
        return AssetGenerated(
            **self.base,
            prompt_version=version,
            media=MediaRef(blob_key=blob_key, content_type="image/png", size_bytes=10),
            prompt=self.prompt,
            model="acme/model",
            attempts=1,
        )


ERROR_TRANSIENT = ErrorInfo(
    code=ErrorCode.TRANSIENT_PROVIDER_ERROR,
    message="Prediction interrupted; please retry (code: PA)",
    provider="replicate",
    provider_code="PA",
    retryable=True,
    user_action_required=False,
)
ERROR_SENSITIVE = ErrorInfo(
    code=ErrorCode.SENSITIVE_CONTENT,
    message="The input or output was flagged as sensitive. Please try again with different "
    "inputs. (E005)",
    provider="replicate",
    provider_code="E005",
    retryable=False,
    user_action_required=True,
)


@pytest.fixture
def asset_events() -> type[AssetEvents]:
    return AssetEvents
