"""The `lecturegen-replicate-sim` command: flags, environment variables, and a real start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from replicate_sim.main import parse_args, settings_from
from replicate_sim.settings import OutputMode, SimSettings


def test_defaults_listen_on_the_loopback_port_18080() -> None:
    settings = settings_from(parse_args([], {}))
    assert settings == SimSettings(host="127.0.0.1", port=18080)


def test_environment_variables_set_the_defaults() -> None:
    env = {
        "REPLICATE_SIM_PORT": "9999",
        "REPLICATE_SIM_TOKEN": "abc",
        "REPLICATE_SIM_OUTPUT_MODE": "url",
        "REPLICATE_SIM_DEFAULT_LATENCY": "0.5",
        "REPLICATE_SIM_PUBLIC_BASE_URL": "http://sim.test",
    }
    settings = settings_from(parse_args([], env))
    assert (settings.port, settings.token, settings.output_mode) == (9999, "abc", OutputMode.URL)
    assert (settings.default_latency_s, settings.public_base_url) == (0.5, "http://sim.test")


def test_flags_win_over_environment_variables() -> None:
    args = parse_args(["--port", "1234", "--output-mode", "data"], {"REPLICATE_SIM_PORT": "9"})
    settings = settings_from(args)
    assert (settings.port, settings.output_mode) == (1234, OutputMode.DATA)


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--output-mode", "ftp"], {}), ([], {"REPLICATE_SIM_PORT": "eighty"})],
)
def test_bad_values_are_refused_with_a_usage_error(argv: list[str], env: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv, env)
    assert exited.value.code == 2


def test_the_command_says_where_it_listens_and_stops_cleanly_on_ctrl_c() -> None:
    command = [sys.executable, "-m", "replicate_sim.main", "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("replicate-sim listening on http://127.0.0.1:")
        url = line.removeprefix("replicate-sim listening on ")
        response = httpx.get(f"{url}/healthz", timeout=5, trust_env=False)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
