"""`python -m timeline_projector [rebuild [--dry-run] [--force]]`.

Without arguments it runs the projector (as `lecturegen-timeline-projector` does); `rebuild`
replays the event log into a new generation with a progress bar, verifies it and switches.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from shared.observability import configure_logging
from timeline_projector.config import Settings
from timeline_projector.main import main as run_projector
from timeline_projector.rebuild import RebuildReport, rebuild


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m timeline_projector")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="project the event log until stopped (the default)")
    rebuild_cmd = commands.add_parser("rebuild", help="replay the log into a new generation")
    rebuild_cmd.add_argument(
        "--dry-run", action="store_true", help="build and verify, then discard; do not switch"
    )
    rebuild_cmd.add_argument(
        "--force", action="store_true", help="switch even if the rebuilt views differ"
    )
    args = parser.parse_args(argv)
    if args.command != "rebuild":
        run_projector([])
        return 0
    settings = Settings.from_env()
    configure_logging("WARNING")
    report = asyncio.run(_rebuild_with_progress(settings, args.dry_run, args.force))
    _print(report)
    return 0 if report.switched or (report.dry_run and report.verified) else 1


async def _rebuild_with_progress(settings: Settings, dry_run: bool, force: bool) -> RebuildReport:
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("replaying the event log", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return await rebuild(settings, dry_run=dry_run, progress=progress, force=force)


def _print(report: RebuildReport) -> None:
    console = Console()
    outcome = "switched to" if report.switched else "built"
    console.print(
        f"{outcome} generation {report.generation} ({report.schema}), "
        f"previous {report.previous_generation}"
    )
    console.print(
        f"{report.records} records ({report.rejected} rejected) in {report.replay_seconds:.1f} s: "
        f"{report.records_per_s:,.0f} records/s; total {report.seconds:.1f} s"
    )
    console.print(f"verified: {report.verified} — {report.note}")
    for line in report.differences:
        console.print(f"  differs: {line}")
    if report.dry_run:
        console.print("dry run: the rebuilt generation was discarded")


if __name__ == "__main__":
    sys.exit(cli())
