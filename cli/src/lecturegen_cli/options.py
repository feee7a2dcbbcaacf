"""Options more than one command takes, spelled once."""

from __future__ import annotations

from typing import Annotated

import typer

ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", help="The API to use (default: the one `lecturegen up` started)."),
]
"""`--api-url` of the commands that call the API (`demo`, `redrive`)."""
