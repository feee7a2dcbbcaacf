"""The commands that run the stack: `up` and `down`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from lecturegen_cli import consoles
from lecturegen_cli.demo.commands import DemoTimeout
from lecturegen_cli.paths import RunPaths
from lecturegen_cli.stack.hangup import OnHangup
from lecturegen_cli.state import RunState


def up(
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            "-d",
            help="Run the supervisor in the background and return once the API answers "
            "/readyz; its output goes to .local/logs/supervisor.log.",
        ),
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Once the API is ready, submit the demo lecture and show its progress."
        ),
    ] = False,
    infra: Annotated[
        bool,
        typer.Option(
            "--infra/--no-infra",
            help="Start Kafka and PostgreSQL with deploy/local/*.sh first (--no-infra: use the "
            "ones KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL point at).",
        ),
    ] = True,
    ready_timeout: Annotated[
        float, typer.Option("--ready-timeout", help="Seconds to wait for the API's /readyz.", min=1)
    ] = 120.0,
    demo_timeout: DemoTimeout = 300.0,
    scale: Annotated[
        list[str] | None,
        typer.Option(
            "--scale",
            metavar="NAME=COUNT",
            help="Run COUNT replicas of a service that shares its work through a consumer "
            "group (image-worker, audio-worker, video-worker, music-worker, dispatcher, "
            "timeline-projector); repeatable.",
        ),
    ] = None,
    on_hangup: Annotated[
        OnHangup, typer.Option("--on-hangup", hidden=True, help="What SIGHUP does.")
    ] = OnHangup.STOP,
) -> None:
    """Start Kafka, PostgreSQL, the topics and every service, and keep them running.

    Starts the local Replicate-compatible server too when REPLICATE_API_TOKEN is unset (with a
    token, the workers call Replicate). Each service is a child process with its log in
    `.local/logs/<component>.log`; one that crashes is restarted with backoff. Prints the editor
    page's link (it signs in with the token), the API URL and token (from LECTUREGEN_API_TOKENS,
    or a generated one). Ctrl-C, a closed terminal (SIGHUP) or `lecturegen down` stops the
    services; Kafka and PostgreSQL stay up. Once the terminal is gone, the output goes on in
    `.local/logs/supervisor.log`. A new run first stops what a run whose supervisor died left
    behind, and takes the same ports again.
    """
    from lecturegen_cli.stack import up as run
    from lecturegen_cli.stack.components import pipeline
    from lecturegen_cli.stack.scaling import ScaleError, parse_scale

    paths = RunPaths.from_env()
    console = consoles.console(fallback=paths.supervisor_log)
    try:
        replicas = parse_scale(scale or [], pipeline(with_sim=True))
    except ScaleError as exc:
        consoles.console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if detach:
        state = run.start_detached(
            paths, console, infra=infra, ready_timeout_s=ready_timeout, scale=replicas
        )
        if state is None:
            raise typer.Exit(1)
        from lecturegen_cli.stack.banner import print_banner

        print_banner(console, state, paths)
        console.print("running in the background; `lecturegen down` stops it")
        if demo:
            raise typer.Exit(_demo_against(state, console, demo_timeout))
        return

    after_ready = None
    if demo:

        async def after_ready(state: RunState) -> object:
            from lecturegen_cli.api_target import ApiTarget
            from lecturegen_cli.demo.command import demo_main

            code = await demo_main(
                ApiTarget.of_run(state), console, as_json=False, clean=False, timeout_s=demo_timeout
            )
            console.print("the pipeline keeps running; Ctrl-C stops it")
            return code

    code = asyncio.run(
        run.serve(
            paths,
            console,
            infra=infra,
            ready_timeout_s=ready_timeout,
            after_ready=after_ready,
            scale=replicas,
            on_hangup=on_hangup,
        )
    )
    raise typer.Exit(code)


def _demo_against(state: RunState, console: Console, timeout_s: float) -> int:
    from lecturegen_cli.api_target import ApiTarget
    from lecturegen_cli.demo.command import demo_main

    target = ApiTarget.of_run(state)
    return asyncio.run(demo_main(target, console, as_json=False, clean=False, timeout_s=timeout_s))


def down(
    all_: Annotated[
        bool, typer.Option("--all", help="Stop Kafka and PostgreSQL too (their data stays).")
    ] = False,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            help="Seconds a process left behind by a dead supervisor may take to stop before "
            "SIGKILL (a live supervisor gives each stage of its shutdown up to 40 s).",
            min=0,
        ),
    ] = 15.0,
) -> None:
    """Stop what `lecturegen up` started.

    Finds the supervisor through `.local/run/state.json` and sends it SIGTERM; it stops the
    services stage by stage (SIGTERM to each process group, a grace period, then SIGKILL) and
    exits. Services left behind by a supervisor that died are stopped the same way. Kafka and
    PostgreSQL keep running unless --all is given.
    """
    from lecturegen_cli.stack.down import down as stop

    raise typer.Exit(stop(RunPaths.from_env(), consoles.console(), infra=all_, grace_s=grace))
