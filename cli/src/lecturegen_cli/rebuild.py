"""`lecturegen projector rebuild`: the projector's rebuild, with a progress bar."""

from __future__ import annotations

import importlib

from rich.console import Console


def rebuild_command(console: Console, *, dry_run: bool) -> int:
    try:
        importlib.import_module("timeline_projector.rebuild")
    except ImportError as exc:
        console.print(f"[red]error:[/] the projector's rebuild is not available: {exc}")
        return 1
    console.print("[red]error:[/] not wired yet")
    return 1
