"""One way to run a service: `--help`, exit status, signals and probes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.service import About, run_service, running, stop_signals


class ToySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_TOY_", extra="ignore")

    metrics_port: int = Field(9199, description="where the probes listen")
    log_level: str = "INFO"


ABOUT = About("lecturegen-toy", "Does toy things.", (ToySettings,), name="toy")


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`run_service` sends the root logger to stderr: put it back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_help_names_every_variable_and_starts_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    def unreadable() -> ToySettings:
        raise AssertionError("--help must not read the settings")

    with pytest.raises(SystemExit) as exited:
        run_service(ABOUT, unreadable, _never, log_level=lambda s: s.log_level, argv=["--help"])

    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "usage: lecturegen-toy" in shown
    assert "Does toy things." in shown
    assert "LECTUREGEN_TOY_METRICS_PORT [9199]: where the probes listen" in shown


def test_a_service_that_fails_logs_why_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def fail(settings: ToySettings) -> None:
        raise RuntimeError("broker gone")

    with pytest.raises(SystemExit) as exited:
        run_service(ABOUT, ToySettings, fail, log_level=lambda s: s.log_level, argv=[])

    assert exited.value.code == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == ["toy failed"]
    assert "broker gone" in lines[0]["exc_info"]


def test_a_service_that_returns_exits_cleanly() -> None:
    served: list[int] = []

    async def serve(settings: ToySettings) -> None:
        served.append(settings.metrics_port)

    run_service(ABOUT, ToySettings, serve, log_level=lambda s: s.log_level, argv=[])

    assert served == [9199]


async def test_sigterm_and_sigint_call_stop_only_within_the_block() -> None:
    stopped = asyncio.Event()
    calls: list[str] = []

    def stop() -> None:
        calls.append("stop")
        stopped.set()

    with stop_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stopped.wait(), 5)
        stopped.clear()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(stopped.wait(), 5)

    assert calls == ["stop", "stop"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_a_running_service_serves_its_probes_until_the_block_ends() -> None:
    healthy = True
    stopped = asyncio.Event()
    async with running(
        CollectorRegistry(), lambda: healthy, stopped.set, host="127.0.0.1", port=0
    ) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ok = await client.get("/healthz")
            healthy = False
            sick = await client.get("/healthz")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stopped.wait(), 5)

    assert (ok.status_code, sick.status_code) == (200, 503)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


async def _never(settings: ToySettings) -> None:
    raise AssertionError("not run")
