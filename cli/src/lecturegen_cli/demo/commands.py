"""The `demo` command."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from lecturegen_cli import consoles
from lecturegen_cli.options import ApiUrl
from lecturegen_cli.paths import RunPaths

DemoTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Seconds to wait for every asset to reach a terminal status.",
        min=1,
    ),
]


def demo(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print only the final report, as JSON, on stdout (no progress bar)."
        ),
    ] = False,
    api_url: ApiUrl = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="API token (default: the one of `lecturegen up`, else the first of "
            "LECTUREGEN_API_TOKENS).",
        ),
    ] = None,
    clean: Annotated[
        bool,
        typer.Option(
            "--clean",
            help="Submit prompts without fault directives (implied when the pipeline calls the "
            "real Replicate API).",
        ),
    ] = False,
    timeout: DemoTimeout = 300.0,
) -> None:
    """Submit a demo lecture and follow it until every asset is final.

    The lecture has 8 segments (an image and a narration each, 2 with a video) and background
    music. Five prompts carry fault directives for the local Replicate-compatible server: two
    transient errors that recover (an image, a narration), a rate limit that recovers, a prompt
    flagged as sensitive (ends needs_prompt_update) and transient errors that exhaust the
    retries (a video, ends failed). Shows live progress from the lecture's SSE stream, then a
    table of every asset: status, error code, attempts. Exits 0 when every asset reached a
    terminal status, 1 on timeout, 2 when the API could not be used.
    """
    from lecturegen_cli.api_target import NoTokenError, resolve_target
    from lecturegen_cli.demo.command import demo_main
    from lecturegen_cli.state import read_state

    console = consoles.console()
    errors = consoles.console(stderr=True)
    state = read_state(RunPaths.from_env().state_file)
    try:
        target = resolve_target(api_url, token, state, os.environ)
    except NoTokenError as exc:
        errors.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    code = asyncio.run(demo_main(target, console, as_json=as_json, clean=clean, timeout_s=timeout))
    raise typer.Exit(code)
