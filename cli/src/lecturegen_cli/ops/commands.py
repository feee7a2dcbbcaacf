"""The commands that operate a run: `status`, `redrive`, `projector rebuild`, `dlt show`."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Annotated

import typer

from lecturegen_cli import consoles
from lecturegen_cli.options import ApiUrl
from lecturegen_cli.paths import RunPaths


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
    from lecturegen_cli.ops.circuits import circuits_json, circuits_table
    from lecturegen_cli.ops.status import gather, provider_circuits, run_phase
    from lecturegen_cli.ops.status_view import status_table

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
    api_url: ApiUrl = None,
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
    from lecturegen_cli.api_target import NoTokenError, resolve_target
    from lecturegen_cli.ops.redrive import RedriveArgumentError, Selection
    from lecturegen_cli.ops.redrive_command import redrive_main
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
    from lecturegen_cli.ops.rebuild import rebuild_command

    raise typer.Exit(rebuild_command(consoles.console(), dry_run=dry_run))


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
    from lecturegen_cli.ops.dead_letters import dead_letter_lines, read_dead_letters
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
