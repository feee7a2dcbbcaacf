"""`lecturegen-api` as a process: settings from the environment, JSON-line logs, clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from api.settings import ApiSettings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_command_serves_the_api_logs_json_lines_with_request_ids_and_stops_cleanly(
    api_settings: ApiSettings, token: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LECTUREGEN_API_HOST": "127.0.0.1",
        "LECTUREGEN_API_PORT": str(port),
        "LECTUREGEN_API_TOKENS": f"other,{token}",
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": api_settings.kafka.bootstrap_servers,
        "LECTUREGEN_TOPIC_NAMESPACE": api_settings.kafka.topic_namespace,
        "DATABASE_URL": api_settings.postgres.dsn,
        "LECTUREGEN_BLOB_ROOT": str(tmp_path / "media"),
    }
    log_path = tmp_path / "api.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "lecturegen-api"),
            env=env,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                await wait_until_up(http, process)
                answer = await http.get(
                    f"/v1/lectures/x/events?access_token={token}",
                    headers={"X-Request-ID": "req-42"},
                )
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                code = await process.wait()

    assert answer.status_code in (404, 503)  # authenticated; no such lecture (or no views)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so it may exit by it
    assert code in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert any(line["message"] == "Application shutdown complete." for line in lines)
    access = [line for line in lines if line.get("request_id") == "req-42"]
    assert any(line.get("route") == "/v1/lectures/{lecture_id}/events" for line in access)
    assert token not in log_path.read_text()


async def wait_until_up(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(30):
        while True:
            assert process.returncode is None, "lecturegen-api exited"
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
