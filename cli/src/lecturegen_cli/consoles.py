"""The consoles the command prints to."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO, cast

from rich.console import Console

from lecturegen_cli.fallback_stream import FallbackStream

PIPED_WIDTH = 120
"""Line width when output goes to a file or pipe (a log, `make run | tee`): wide enough for
the tables, where rich would otherwise assume 80 columns."""


def console(*, stderr: bool = False, fallback: Path | None = None) -> Console:
    """A console on stdout (or stderr); with `fallback`, on stdout until writing there fails
    (a closed terminal or pipe), then on that file."""
    if fallback is not None:
        # a text stream in all but name: typeshed's IO[str] is a class, not a protocol
        stream = cast(TextIO, FallbackStream(sys.stdout, fallback))
        out = Console(file=stream)
        return out if out.is_terminal else Console(file=stream, width=PIPED_WIDTH)
    out = Console(stderr=stderr)
    if not out.is_terminal:
        out = Console(stderr=stderr, width=PIPED_WIDTH)
    return out
