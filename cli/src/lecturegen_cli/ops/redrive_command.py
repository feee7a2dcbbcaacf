"""The I/O of `lecturegen redrive`: select, then regenerate each asset through the API with a
progress bar, then a summary (or JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lecturegen_cli.api_client import ApiError, LectureApi
from lecturegen_cli.api_target import ApiTarget
from lecturegen_cli.ops.dead_letters import read_dead_letters
from lecturegen_cli.ops.redrive import (
    Candidate,
    Outcome,
    Selection,
    command_key,
    request_body,
    select,
    summary,
)
from shared.media import MediaKind
from shared.settings import KafkaSettings

DLT_SCAN_LIMIT = 1_000_000
"""Records read from the end of each dead-letter partition for `--from-dlt`: all of them."""


async def redrive_main(
    target: ApiTarget,
    dsn: str,
    kafka: KafkaSettings,
    selection: Selection,
    console: Console,
    *,
    dry_run: bool,
    as_json: bool,
) -> int:
    """0 when every matched asset was requested (or had been), 1 when any call failed."""
    only = await _dead_lettered(kafka, selection) if selection.from_dlt else None
    matched = await select(dsn, selection, only)
    if dry_run:
        _report(console, matched, [], as_json=as_json, dry_run=True)
        return 0
    outcomes: list[Outcome] = []
    body = request_body(selection)
    async with httpx.AsyncClient() as http:
        api = LectureApi(http, target.url, target.token)
        bar = Progress(
            TextColumn("[bold]redriving"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        )
        with bar:
            task = bar.add_task("redrive", total=len(matched))
            for candidate in matched:
                outcomes.append(await _redrive_one(api, candidate, body, selection))
                bar.advance(task)
    _report(console, matched, outcomes, as_json=as_json, dry_run=False)
    return 1 if any(o.result == "error" for o in outcomes) else 0


async def _redrive_one(
    api: LectureApi, candidate: Candidate, body: dict[str, object], selection: Selection
) -> Outcome:
    key = command_key(candidate.asset_id, candidate.prompt_version, selection)
    try:
        data, replayed = await api.regenerate_once(candidate.asset_id, dict(body), key)
    except ApiError as exc:
        result = "pending" if exc.status == 409 else "error"
        return Outcome(candidate.asset_id, result, detail=str(exc))
    except httpx.HTTPError as exc:
        return Outcome(candidate.asset_id, "error", detail=f"the API did not answer: {exc!r}")
    result = "already_requested" if replayed else "requested"
    return Outcome(candidate.asset_id, result, prompt_version=int(data["prompt_version"]))


async def _dead_lettered(kafka: KafkaSettings, selection: Selection) -> set[str]:
    kinds = [selection.kind] if selection.kind else list(MediaKind)
    letters = await read_dead_letters(kafka, kinds, DLT_SCAN_LIMIT)
    return {letter.asset_id for letter in letters if letter.asset_id}


def _report(
    console: Console,
    matched: Sequence[Candidate],
    outcomes: Sequence[Outcome],
    *,
    as_json: bool,
    dry_run: bool,
) -> None:
    report = summary(matched, outcomes)
    if as_json:
        print(json.dumps({"dry_run": dry_run, **report}, indent=2))
        return
    table = Table("asset", "lecture", "kind", "status", "code", "version", "result")
    for row in report["assets"]:
        version = str(row.get("prompt_version") or "")
        table.add_row(
            row["asset_id"],
            row["lecture_id"],
            row["kind"],
            row["status"],
            row.get("code") or "",
            version,
            row.get("result") or ("would redrive" if dry_run else ""),
        )
    if matched:
        console.print(table)
    if dry_run:
        console.print(f"dry run: {len(matched)} asset(s) match; nothing was regenerated")
    else:
        console.print(
            f"{report['matched']} matched · {report['requested']} requested · "
            f"{report['already_requested']} already requested by this redrive · "
            f"{report['pending']} pending elsewhere · {report['error']} failed",
            highlight=False,
        )
