"""The editor's page in a real browser (Debian's chromium through Playwright) against the whole
stack started by `lecturegen up --detach`: API, dispatcher, workers, projector and the local
Replicate-compatible server, on the test's Kafka and PostgreSQL.

A missing browser fails these tests (never a skip): `make test` installs it first
(`deploy/local/browser.sh`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from lecturegen_cli.stack.private_run import QUICK_TEST_SETTINGS, PrivateRun, private_env
from shared.read_model.tables import FEED
from shared.testing.databases import fresh_database
from shared.testing.infra import Endpoint

CHROMIUM = os.environ.get("LECTUREGEN_CHROMIUM", "/usr/lib/chromium/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"

pytestmark = pytest.mark.browser


VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module. Playwright's sync API runs an event loop on this thread while it
    is started, so it is stopped after the module: later asyncio tests need the thread back."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no browser at {CHROMIUM}: run deploy/local/browser.sh (as root it installs "
            "Debian's chromium and fonts-liberation), or set LECTUREGEN_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab in a fresh context (no storage shared between tests), 1280 x 800."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def _database(server_dsn: str) -> Iterator[str]:
    """A fresh database for the stack. Its coroutines run on a thread of their own, on one
    loop kept open between create and drop: Playwright's sync API owns this thread's loop."""
    manager = fresh_database(server_dsn, f"browser_{uuid.uuid4().hex[:12]}")
    loop = asyncio.new_event_loop()
    with ThreadPoolExecutor(max_workers=1) as thread:
        try:
            yield thread.submit(loop.run_until_complete, manager.__aenter__()).result()
        finally:
            thread.submit(loop.run_until_complete, manager.__aexit__(None, None, None)).result()
            loop.close()


@dataclass
class Stack(PrivateRun):
    """One `lecturegen up --detach` for the browser tests."""

    killed_api_pid: int | None = None

    @property
    def api_url(self) -> str:
        return str(self.state()["api_url"])

    @property
    def token(self) -> str:
        return str(self.state()["api_token"])

    def create(self, lecture: dict[str, Any]) -> dict[str, Any]:
        """Submit a lecture and wait until the views show it (so a link to it works)."""
        with self.api() as client:
            response = client.post("/v1/lectures", json=lecture)
            assert response.status_code == 202, response.text
            accepted: dict[str, Any] = response.json()
            lecture_id, event_id = accepted["lecture_id"], accepted["event_id"]
            seen = client.get(f"/v1/lectures/{lecture_id}", params={"wait_for": event_id})
            assert seen.status_code == 200, seen.text
        return accepted

    def statuses(self, lecture_id: str) -> dict[str, str]:
        with self.api() as client:
            assets = client.get(f"/v1/lectures/{lecture_id}/assets").json()["assets"]
        return {a["asset_id"]: a["status"] for a in assets}

    def feed(self, lecture_id: str) -> list[tuple[int, datetime]]:
        """Every event of the lecture's feed so far: its sequence number and time."""
        events: list[tuple[int, datetime]] = []
        with (
            self.api() as client,
            client.stream(
                "GET", f"/v1/lectures/{lecture_id}/events", timeout=httpx.Timeout(10, read=30)
            ) as stream,
        ):
            fields: dict[str, str] = {}
            for line in stream.iter_lines():
                if line.startswith(":"):
                    break  # a heartbeat comes only after a quiet spell: caught up
                if line == "" and "id" in fields:
                    data = json.loads(fields["data"])
                    events.append((int(fields["id"]), datetime.fromisoformat(data["time"])))
                    fields = {}
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        return events

    def kill_api(self) -> None:
        """SIGKILL the API process: the supervisor starts it again on the same port."""
        self.killed_api_pid = int(self.state()["processes"]["api"]["pid"])
        os.kill(self.killed_api_pid, signal.SIGKILL)

    @contextmanager
    def restarts_held(self) -> Iterator[None]:
        """Within the block the supervisor is paused (SIGSTOP), so a process that dies stays
        down until the block ends; then it carries on and restarts it as after any crash."""
        supervisor = int(self.state()["supervisor_pid"])
        os.kill(supervisor, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(supervisor, signal.SIGCONT)

    def api_listens(self) -> bool:
        """Whether the API's port accepts a connection."""
        address = urlsplit(self.api_url)
        try:
            socket.create_connection((address.hostname, address.port), timeout=2).close()
        except OSError:
            return False
        return True

    def events_since(self, lecture_id: str, since: datetime) -> int:
        """How many events of the lecture's feed happened after `since`, read from the view
        store (the API may be down)."""

        async def count() -> int:
            connection = await asyncpg.connect(self.env["DATABASE_URL"])
            try:
                found = await connection.fetchval(
                    f"SELECT count(*) FROM {FEED.qualified()} WHERE lecture_id = $1"
                    " AND (data->>'time')::timestamptz > $2",
                    lecture_id,
                    since,
                )
            finally:
                await connection.close()
            return int(found)

        # on a thread of its own: Playwright's sync API owns this thread's loop
        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, count()).result()

    def wait_for_api_restart(self) -> None:
        def back() -> bool:
            api = self.state()["processes"]["api"]
            return bool(api["pid"] != self.killed_api_pid and api["state"] == "running")

        wait_until(back, timeout_s=60, what="the API to be restarted")


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_service: Endpoint, postgres_service: Endpoint
) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("stack")
    with _database(postgres_service.address) as dsn:
        env = private_env(
            home,
            namespace=f"web{uuid.uuid4().hex[:10]}.",
            kafka=kafka_service.address,
            dsn=dsn,
            **{
                **QUICK_TEST_SETTINGS,
                "MEDIA_GENERATION_RETRY_BASE_DELAY_S": "1",
                "LECTUREGEN_API_HEARTBEAT_S": "2",
                "LECTUREGEN_API_GRACEFUL_SHUTDOWN_S": "1",
                # a webhook lost while the API is down: the worker reads the prediction
                # soon, so the run goes on without the API
                "LECTUREGEN_WEBHOOK_FALLBACK_POLL_S": "2",
            },
        )
        the_stack = Stack(env, home)
        started = the_stack.start()
        try:
            assert started.returncode == 0, started.stdout + started.stderr + the_stack.logs()
            yield the_stack
        finally:
            the_stack.stop()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def no_script_errors(page: Page) -> Iterator[None]:
    """Every test also proves the page's scripts threw nothing uncaught."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert errors == [], errors
