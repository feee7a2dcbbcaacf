"""The `lecturegen` command. Each command imports what it needs when it runs, so `--help`
and the quick commands stay fast."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from lecturegen_cli import consoles
from lecturegen_cli.hangup import OnHangup
from lecturegen_cli.paths import RunPaths
from lecturegen_cli.state import RunState

app = typer.Typer(
    name="lecturegen",
    help="Run lecturegen on this machine: the whole pipeline, a demo lecture, status, rebuilds.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
projector_app = typer.Typer(
    help="Operate the timeline projector's PostgreSQL views.", no_args_is_help=True
)
app.add_typer(projector_app, name="projector")
dlt_app = typer.Typer(help="Look into the dead-letter topics.", no_args_is_help=True)
app.add_typer(dlt_app, name="dlt")

DemoTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Seconds to wait for every asset to reach a terminal status.",
        min=1,
    ),
]


@app.command()
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
    from lecturegen_cli import up as run
    from lecturegen_cli.components import pipeline
    from lecturegen_cli.scaling import ScaleError, parse_scale

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
        from lecturegen_cli.banner import print_banner

        print_banner(console, state, paths)
        console.print("running in the background; `lecturegen down` stops it")
        if demo:
            raise typer.Exit(_demo_against(state, console, demo_timeout))
        return

    after_ready = None
    if demo:

        async def after_ready(state: RunState) -> object:
            from lecturegen_cli.demo_command import ApiTarget, demo_main

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
    from lecturegen_cli.demo_command import ApiTarget, demo_main

    target = ApiTarget.of_run(state)
    return asyncio.run(demo_main(target, console, as_json=False, clean=False, timeout_s=timeout_s))


@app.command()
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
    from lecturegen_cli.down import down as stop

    raise typer.Exit(stop(RunPaths.from_env(), consoles.console(), infra=all_, grace_s=grace))


@app.command()
def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (one object per component) instead.")
    ] = False,
) -> None:
    """Show every component with its state, pid, restarts, address and lag.

    Covers Kafka, PostgreSQL, the local Replicate-compatible server, the dispatcher, each
    worker (each replica of a scaled one), the projector and the API. The state is running,
    starting, crashed (exited; being restarted), stopped, unreachable (Kafka, PostgreSQL) or
    orphaned (running without its supervisor; the run's phase then reads orphaned too). For
    consumers, lag is the number of records their consumer group has not yet processed (shown
    on each replica of a scaled one). Then the provider circuits the breaker has seen (closed,
    open or half_open, for how long, the error rate that moved it). Exits 1 when any component
    is not running (an open circuit is not a component's failure).
    """
    from lecturegen_cli.circuits import circuits_json, circuits_table
    from lecturegen_cli.status import gather, provider_circuits, run_phase
    from lecturegen_cli.status_view import status_table

    paths = RunPaths.from_env()
    state, rows = asyncio.run(gather(paths))
    circuits = asyncio.run(provider_circuits(state, rows))
    healthy = all(r.state == "running" for r in rows)
    phase = run_phase(state) if state else None
    if as_json:
        payload = {
            "phase": phase,
            "supervisor_pid": state.supervisor_pid if state else None,
            "api_url": state.api_url if state else None,
            "provider": state.provider if state else None,
            "components": [r.to_json() for r in rows],
            "circuits": circuits_json(circuits),
        }
        print(json.dumps(payload, indent=2))
    else:
        console = consoles.console()
        if state is None:
            console.print(f"no run recorded in {paths.state_file}; `lecturegen up` starts one")
        else:
            console.print(
                f"run {phase} since {state.started_at} · supervisor pid "
                f"{state.supervisor_pid or '—'} · API {state.api_url} · provider {state.provider}",
                highlight=False,
            )
        console.print(status_table(rows))
        if circuits:
            console.print(circuits_table(circuits))
    raise typer.Exit(0 if healthy else 1)


@app.command()
def demo(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print only the final report, as JSON, on stdout (no progress bar)."
        ),
    ] = False,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="The API to use (default: the one `lecturegen up` started)."
        ),
    ] = None,
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
    from lecturegen_cli.demo_command import NoTokenError, demo_main, resolve_target
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


@app.command()
def redrive(
    status: Annotated[
        str,
        typer.Option(
            "--status", help="Assets in this status: failed, needs_prompt_update, or generated."
        ),
    ] = "failed",
    code: Annotated[
        str | None,
        typer.Option(
            "--code", help="Only assets whose error has this code (TRANSIENT_PROVIDER_ERROR, ...)."
        ),
    ] = None,
    lecture: Annotated[
        str | None, typer.Option("--lecture", help="Only this lecture's assets.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this medium: image, narration, video or music."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only assets that reached their status at or after this ISO time (UTC if no "
            "offset).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only assets that reached their status before this ISO time."),
    ] = None,
    from_dlt: Annotated[
        bool,
        typer.Option("--from-dlt", help="Only assets with a record on a dead-letter topic."),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Regenerate on this model (owner/name[:version]) instead of the current one.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what matches; regenerate nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (no progress bar).")
    ] = False,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="The API to use (default: the one `lecturegen up` started)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="API token (default: the run's, else LECTUREGEN_API_TOKENS)."),
    ] = None,
) -> None:
    """Regenerate every asset that matches, each as a new prompt_version.

    Selects from the timeline views (default: every `failed` asset; narrow with the options),
    then regenerates each through the API's `POST /v1/assets/{id}/regenerate` with its current
    prompt and model, or `--model` another one. Idempotent: each call carries a key made from
    the asset, the version being redriven and these arguments, so running the same redrive
    twice (or again after an interruption) makes no extra version; an asset this redrive
    brought to a new version that fails again is redriven again only by a new run whose
    selection matches it. `--status generated` needs `--model` (re-render onto another model;
    assets already generated on it are skipped). Exits 0 when every matched asset was
    requested, 1 when a call failed, 2 on bad arguments. Uses DATABASE_URL,
    KAFKA_BOOTSTRAP_SERVERS and LECTUREGEN_TOPIC_NAMESPACE of the run (or the environment).
    """
    from lecturegen_cli.demo_command import NoTokenError, resolve_target
    from lecturegen_cli.redrive import RedriveArgumentError, Selection
    from lecturegen_cli.redrive_command import redrive_main
    from lecturegen_cli.state import read_state
    from shared.media import MediaKind
    from shared.settings import KafkaSettings, PostgresSettings
    from shared.status import AssetStatus

    errors = consoles.console(stderr=True)
    state = read_state(RunPaths.from_env().state_file)
    try:
        selection = Selection(
            status=AssetStatus(status),
            code=code,
            lecture_id=lecture,
            kind=MediaKind(kind) if kind else None,
            since=_iso_time(since),
            until=_iso_time(until),
            from_dlt=from_dlt,
            model=model,
        )
        target = resolve_target(api_url, token, state, os.environ)
    except (ValueError, RedriveArgumentError, NoTokenError) as exc:
        errors.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    dsn = state.database_url if state else PostgresSettings().dsn
    kafka = (
        KafkaSettings(
            bootstrap_servers=state.kafka_bootstrap, topic_namespace=state.topic_namespace
        )
        if state
        else KafkaSettings()
    )
    console = consoles.console(stderr=as_json)
    code_ = asyncio.run(
        redrive_main(target, dsn, kafka, selection, console, dry_run=dry_run, as_json=as_json)
    )
    raise typer.Exit(code_)


def _iso_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time; one without an offset is UTC."""
    if raw is None:
        return None
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@projector_app.command("rebuild")
def projector_rebuild(
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Replay the event log into a new generation and verify it, but keep serving "
            "the current one.",
        ),
    ] = False,
) -> None:
    """Rebuild the PostgreSQL views from the event log (Kafka is the source of truth).

    Replays lecturegen.events.v1 from the beginning into a new projection generation, checks
    it, then switches the read views to it in one transaction; readers never see a half-built
    generation. Uses the same environment as the projector (DATABASE_URL,
    KAFKA_BOOTSTRAP_SERVERS, LECTUREGEN_TOPIC_NAMESPACE).
    """
    from lecturegen_cli.rebuild import rebuild_command

    raise typer.Exit(rebuild_command(consoles.console(), dry_run=dry_run))


@dlt_app.command("show")
def dlt_show(
    media: Annotated[
        list[str] | None,
        typer.Option(
            "--media",
            "-m",
            help="Only this medium (image, narration, video, music); repeatable. Default: all.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="The last N records of each partition.", min=1)
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead.")] = False,
) -> None:
    """Show the latest records of the dead-letter topics `lecturegen.<media>.dlt.v1`.

    Each record is a request the pipeline gave up on: `poison` (it could not be decoded),
    `exhausted` (its retries ran out) or `failed` (a permanent provider error), with the error,
    the asset, and where the request first entered. Reads without a consumer group: nothing
    is committed or changed. Uses KAFKA_BOOTSTRAP_SERVERS and LECTUREGEN_TOPIC_NAMESPACE.
    A failed asset is retried by regenerating it (`POST /v1/assets/{id}/regenerate`).
    """
    from lecturegen_cli.dead_letters import dead_letter_lines, read_dead_letters
    from shared.media import MediaKind
    from shared.settings import KafkaSettings

    errors = consoles.console(stderr=True)
    try:
        kinds = [MediaKind(m) for m in media] if media else list(MediaKind)
    except ValueError as exc:
        errors.print(f"[red]error:[/] {exc}; the media are {', '.join(MediaKind)}")
        raise typer.Exit(2) from exc
    letters = asyncio.run(read_dead_letters(KafkaSettings(), kinds, limit))
    if as_json:
        print(json.dumps([d.to_json() for d in letters], indent=2))
        return
    console = consoles.console()
    if not letters:
        console.print("the dead-letter topics are empty")
        return
    for line in dead_letter_lines(letters):
        console.print(line, highlight=False)
