"""What `up` tells the person who started it: where the API is, the token, where the logs are."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from lecturegen_cli.paths import RunPaths
from lecturegen_cli.state import RunState

PROVIDER_LABELS = {
    "replicate-sim": "local Replicate-compatible server (no REPLICATE_API_TOKEN set)",
    "replicate": "Replicate (REPLICATE_API_TOKEN)",
}


def print_banner(console: Console, state: RunState, paths: RunPaths) -> None:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("editor", editor_link(state))
    table.add_row("API", state.api_url)
    table.add_row("API token", state.api_token)
    table.add_row("provider", PROVIDER_LABELS.get(state.provider, state.provider))
    table.add_row("Kafka", state.kafka_bootstrap)
    if state.topic_namespace:
        table.add_row("topic namespace", state.topic_namespace)
    table.add_row("logs", f"{_shown(paths, paths.log_dir)}/<component>.log")
    table.add_row("state", _shown(paths, paths.state_file))
    console.print(table)
    console.print(
        "next: [bold]lecturegen demo[/] submits a demo lecture; "
        "[bold]lecturegen status[/] shows every component",
        highlight=False,
    )


def editor_link(state: RunState) -> str:
    """The editor's page; the token in the link signs in once and leaves the address bar."""
    return f"{state.api_url.rstrip('/')}/?{urlencode({'token': state.api_token})}"


def _shown(paths: RunPaths, path: Path) -> str:
    """A path relative to the checkout where it lies inside it."""
    try:
        return str(path.relative_to(paths.repo_root))
    except ValueError:
        return str(path)
