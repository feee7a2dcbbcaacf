"""The API during a PostgreSQL outage: 503 with `Retry-After`, never a 500, and back to 200
by itself once the server returns, in the same process (no restart).

The server is a private one (the shared server is never stopped); the API and the projector
run as the real processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.testing.private_postgres import PrivatePostgres, private_postgres

from .test_main import free_port, wait_until_up

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
LECTURE = {
    "title": "Outage",
    "segments": [{"duration_s": 3, "image": {"prompt": "a lighthouse"}}],
}


@pytest.fixture
def database() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


async def test_a_database_outage_answers_503_with_retry_after_and_the_api_recovers_by_itself(
    database: PrivatePostgres, kafka_bootstrap: str, unique_name: str, token: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LECTUREGEN_API_PORT": str(port),
        "LECTUREGEN_API_TOKENS": token,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "LECTUREGEN_TOPIC_NAMESPACE": f"t{unique_name}.",
        "DATABASE_URL": database.dsn,
        "LECTUREGEN_BLOB_ROOT": str(tmp_path / "media"),
        "LECTUREGEN_PROJECTOR_GROUP_ID": f"projector-{unique_name}",
        "LECTUREGEN_PROJECTOR_METRICS_PORT": "0",
        "LECTUREGEN_PROJECTOR_POLL_TIMEOUT_MS": "100",
        "LECTUREGEN_API_HEARTBEAT_S": "0.5",
    }
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        ServiceProcess("lecturegen-timeline-projector", env, tmp_path / "projector.log"),
        ServiceProcess("lecturegen-api", env, tmp_path / "api.log") as api,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=10) as http,
    ):
        await wait_until_up(http, api)
        accepted = (await http.post("/v1/lectures", json=LECTURE)).json()
        lecture_id, event_id = accepted["lecture_id"], accepted["event_id"]
        asset_id = accepted["assets"][0]["asset_id"]
        await _until_status(http, f"/v1/lectures/{lecture_id}?wait_for={event_id}", 200)
        stream_lines: list[str] = []
        events_path = f"/v1/lectures/{lecture_id}/events"
        stream = asyncio.create_task(_follow(http, events_path, stream_lines))
        await _until(lambda: "heartbeat" in "".join(stream_lines))

        database.stop()
        during = [
            await http.get(f"/v1/lectures/{lecture_id}"),
            await http.get(f"/v1/lectures/{lecture_id}/timeline"),
            await http.get(f"/v1/lectures/{lecture_id}/assets"),
            await http.get(f"/v1/assets/{asset_id}"),
            await http.post(f"/v1/assets/{asset_id}/regenerate", json={}),
            await http.get(f"/v1/lectures/{lecture_id}/events"),
            await http.get("/readyz"),
        ]
        for answer in during:
            assert answer.status_code == 503, (answer.request.url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert int(answer.headers["Retry-After"]) > 0
        assert (await http.get("/healthz")).status_code == 200

        database.start()
        await _until_status(http, f"/v1/lectures/{lecture_id}", 200)
        assert (await http.get(f"/v1/assets/{asset_id}")).status_code == 200
        await _until_status(http, "/readyz", 200)
        assert api.returncode is None, "the API restarted instead of recovering"
        # The stream opened before the outage is still open, and still beats, after it.
        seen = len(stream_lines)
        await _until(lambda: any("heartbeat" in line for line in stream_lines[seen:]))
        assert not stream.done(), "the open stream ended with the outage"
        stream.cancel()


async def _follow(http: httpx.AsyncClient, path: str, lines: list[str]) -> None:
    async with http.stream("GET", path, timeout=httpx.Timeout(10, read=None)) as answer:
        assert answer.status_code == 200
        async for line in answer.aiter_lines():
            lines.append(line)


async def _until(condition: Callable[[], bool], within_s: float = 15) -> None:
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110 - polls what another task appends
            await asyncio.sleep(0.1)


async def _until_status(http: httpx.AsyncClient, path: str, status: int) -> None:
    async with asyncio.timeout(30):
        while True:
            answer = await http.get(path)
            assert answer.status_code in (status, 503), (path, answer.status_code, answer.text)
            if answer.status_code == status:
                return
            await asyncio.sleep(0.2)


class ServiceProcess:
    """A service process for the block, its output in `log_path`; stopped with SIGTERM."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path) -> None:
        self._command = command
        self._env = env
        self._log_path = log_path
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> asyncio.subprocess.Process:
        with self._log_path.open("wb") as log_file:
            self._process = await asyncio.create_subprocess_exec(
                str(BIN / self._command),
                env=self._env,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self._process

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self._process.wait()
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
