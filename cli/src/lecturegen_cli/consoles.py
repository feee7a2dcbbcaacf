"""The consoles the command prints to."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 120
"""Line width when output goes to a file or pipe (a log, `make run | tee`): wide enough for
the tables, where rich would otherwise assume 80 columns."""


def console(*, stderr: bool = False) -> Console:
    out = Console(stderr=stderr)
    if not out.is_terminal:
        out = Console(stderr=stderr, width=PIPED_WIDTH)
    return out
