"""The `lecturegen` command assembled from its three parts lists every command, in order,
with the options each had before the split."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from lecturegen_cli.main import app

OPTIONS = {
    ("up",): ["--detach", "--demo", "--infra", "--ready-timeout", "--timeout", "--scale"],
    ("down",): ["--all", "--grace"],
    ("status",): ["--json"],
    ("demo",): ["--json", "--api-url", "--token", "--clean", "--timeout"],
    ("redrive",): [
        "--status",
        "--code",
        "--lecture",
        "--kind",
        "--since",
        "--until",
        "--from-dlt",
        "--model",
        "--dry-run",
        "--json",
        "--api-url",
        "--token",
    ],
    ("projector", "rebuild"): ["--dry-run"],
    ("dlt", "show"): ["--media", "--limit", "--json"],
}


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\x1b\[[0-9;]*m", "", result.output)


def test_the_commands_are_listed_in_the_order_they_always_were() -> None:
    listed = re.findall(r"^│ (\w+) ", _help(), flags=re.MULTILINE)

    assert listed == ["up", "down", "status", "demo", "redrive", "projector", "dlt"]


@pytest.mark.parametrize("command", list(OPTIONS))
def test_each_command_keeps_its_options(command: tuple[str, ...]) -> None:
    shown = _help(*command)

    assert [option for option in OPTIONS[command] if option not in shown] == []
