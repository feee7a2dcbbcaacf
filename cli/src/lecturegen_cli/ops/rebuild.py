"""`lecturegen projector rebuild`: the projector's rebuild, with a progress bar."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lecturegen_cli.stack.components import PROJECTOR
from shared.settings import KafkaSettings, PostgresSettings
from timeline_projector.config import ProjectorSettings, Settings
from timeline_projector.rebuild import RebuildError, RebuildReport, rebuild


def rebuild_command(console: Console, *, dry_run: bool) -> int:
    """Run the rebuild; 0 when it switched (or, dry, when it verified), else 1."""
    settings = projector_settings(os.environ)
    bar = Progress(
        TextColumn("[bold]replaying the event log"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("replay", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    try:
        with bar:
            report = asyncio.run(rebuild(settings, dry_run=dry_run, progress=progress))
    except RebuildError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    console.print(report_table(report))
    ok = report.verified if report.dry_run else report.switched
    return 0 if ok else 1


def projector_settings(env: Mapping[str, str]) -> Settings:
    """The projector's settings from the environment, with its consumer group chosen as
    `lecturegen up` chooses it, so the rebuild compares against the live projector's offsets."""
    assert PROJECTOR.consumes is not None
    group = PROJECTOR.consumes.group(env)
    return Settings(KafkaSettings(), PostgresSettings(), ProjectorSettings(group_id=group))


def report_table(report: RebuildReport) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    if report.dry_run:
        outcome = "dry run: verified, views left as they were" if report.verified else "dry run"
    elif report.switched:
        outcome = f"views now read generation {report.generation}"
    else:
        outcome = f"not switched; generation {report.generation} kept for inspection"
    table.add_row("outcome", outcome)
    table.add_row(
        "generation", f"{report.generation} (was {report.previous_generation}, {report.schema})"
    )
    table.add_row(
        "records",
        f"{report.records} replayed, {report.rejected} rejected, {report.records_per_s:,.0f}/s",
    )
    table.add_row("took", f"{report.seconds:.1f}s")
    table.add_row("verified", f"{'yes' if report.verified else 'no'} — {report.note}")
    for difference in report.differences:
        table.add_row("difference", difference)
    return table
