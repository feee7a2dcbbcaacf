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
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from lecturegen_cli.processes import is_alive
from shared.testing.databases import fresh_database
from shared.testing.infra import Endpoint

CHROMIUM = os.environ.get("LECTUREGEN_CHROMIUM", "/usr/lib/chromium/chromium")
LECTUREGEN = str(Path(sys.executable).with_name("lecturegen"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"
PORT_VARIABLES = (
    "LECTUREGEN_API_PORT",
    "REPLICATE_SIM_PORT",
    "LECTUREGEN_DISPATCHER_METRICS_PORT",
    "LECTUREGEN_PROJECTOR_METRICS_PORT",
    "LECTUREGEN_IMAGE_WORKER_METRICS_PORT",
    "LECTUREGEN_AUDIO_WORKER_METRICS_PORT",
    "LECTUREGEN_VIDEO_WORKER_METRICS_PORT",
    "LECTUREGEN_MUSIC_WORKER_METRICS_PORT",
)
KEPT_VARIABLES = {
    "LECTUREGEN_KAFKA_PORT",
    "LECTUREGEN_KAFKA_CONTROLLER_PORT",
    "LECTUREGEN_POSTGRES_PORT",
    "LECTUREGEN_LOCAL_DIR",
    "LECTUREGEN_PG_BIN",
}

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
class Stack:
    """One `lecturegen up --detach` for the browser tests."""

    env: dict[str, str]
    run_dir: Path
    log_dir: Path
    killed_api_pid: int | None = None

    def lecturegen(self, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LECTUREGEN, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.run_dir / "state.json").read_text())
        return data

    @property
    def api_url(self) -> str:
        return str(self.state()["api_url"])

    @property
    def token(self) -> str:
        return str(self.state()["api_token"])

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def create(self, lecture: dict[str, Any]) -> dict[str, Any]:
        """Submit a lecture and wait until the views show it (so a link to it works)."""
        with self.client() as client:
            response = client.post("/v1/lectures", json=lecture)
            assert response.status_code == 202, response.text
            accepted: dict[str, Any] = response.json()
            lecture_id, event_id = accepted["lecture_id"], accepted["event_id"]
            seen = client.get(f"/v1/lectures/{lecture_id}", params={"wait_for": event_id})
            assert seen.status_code == 200, seen.text
        return accepted

    def statuses(self, lecture_id: str) -> dict[str, str]:
        with self.client() as client:
            assets = client.get(f"/v1/lectures/{lecture_id}/assets").json()["assets"]
        return {a["asset_id"]: a["status"] for a in assets}

    def feed(self, lecture_id: str) -> list[tuple[int, datetime]]:
        """Every event of the lecture's feed so far: its sequence number and time."""
        events: list[tuple[int, datetime]] = []
        with (
            self.client() as client,
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

    def wait_for_api_restart(self) -> None:
        def back() -> bool:
            api = self.state()["processes"]["api"]
            return bool(api["pid"] != self.killed_api_pid and api["state"] == "running")

        wait_until(back, timeout_s=60, what="the API to be restarted")

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)


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
    env = {
        k: v
        for k, v in os.environ.items()
        if k in KEPT_VARIABLES or not k.startswith(("LECTUREGEN_", "MEDIA_"))
    }
    env.pop("REPLICATE_API_TOKEN", None)
    env.pop("REPLICATE_BASE_URL", None)
    env.update({name: str(_free_port()) for name in PORT_VARIABLES})
    with _database(postgres_service.address) as dsn:
        env.update(
            LECTUREGEN_RUN_DIR=str(home / "run"),
            LECTUREGEN_LOG_DIR=str(home / "logs"),
            LECTUREGEN_BLOB_ROOT=str(home / "media"),
            LECTUREGEN_TOPIC_NAMESPACE=f"web{uuid.uuid4().hex[:10]}.",
            LECTUREGEN_TOPIC_REQUEST_PARTITIONS="2",
            LECTUREGEN_TOPIC_TIER_PARTITIONS="1",
            LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
            KAFKA_BOOTSTRAP_SERVERS=kafka_service.address,
            DATABASE_URL=dsn,
            MEDIA_GENERATION_RETRY_BASE_DELAY_S="1",
            LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
            LECTUREGEN_API_HEARTBEAT_S="2",
            LECTUREGEN_API_GRACEFUL_SHUTDOWN_S="1",
        )
        the_stack = Stack(env, home / "run", home / "logs")
        started = the_stack.lecturegen(
            "up", "--detach", "--no-infra", "--ready-timeout", "180", timeout_s=300
        )
        try:
            assert started.returncode == 0, started.stdout + started.stderr + the_stack.logs()
            yield the_stack
        finally:
            _stop(the_stack)


def _stop(the_stack: Stack) -> None:
    if not (the_stack.run_dir / "state.json").exists():
        return
    state = the_stack.state()
    ours = [(state["supervisor_pid"], state["supervisor_ticks"])]
    ours += [(p["pid"], p["start_ticks"]) for p in state["processes"].values() if p["pid"]]
    the_stack.lecturegen("down", "--grace", "5", timeout_s=120)
    for pid, ticks in ours:
        if is_alive(pid, ticks):
            os.killpg(pid, signal.SIGKILL)


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
