"""What `up` prints: the editor's link signs in with the run's token."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.console import Console

from lecturegen_cli.paths import RunPaths
from lecturegen_cli.stack.banner import editor_link, print_banner
from lecturegen_cli.state import Phase, RunState


def state() -> RunState:
    return RunState(
        supervisor_pid=42,
        supervisor_ticks=1,
        phase=Phase.READY,
        started_at="2026-01-01T00:00:00+00:00",
        api_url="http://127.0.0.1:8000",
        api_token="tok-en_+/=",
        provider="replicate-sim",
        kafka_bootstrap="127.0.0.1:19092",
        database_url="postgresql://x@127.0.0.1/x",
        topic_namespace="",
        log_dir="logs",
    )


def test_the_editor_link_opens_the_page_with_the_token_in_the_query() -> None:
    link = urlsplit(editor_link(state()))

    assert (link.scheme, link.netloc, link.path) == ("http", "127.0.0.1:8000", "/")
    assert parse_qs(link.query) == {"token": ["tok-en_+/="]}


def test_the_banner_shows_the_editor_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_RUN_DIR", str(tmp_path / "run"))
    console = Console(record=True, width=200)

    print_banner(console, state(), RunPaths.from_env())

    assert editor_link(state()) in console.export_text()
