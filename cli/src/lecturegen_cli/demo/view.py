"""How the demo shows itself: a live progress bar, then a table of every asset's outcome."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lecturegen_cli.demo.progress import LectureProgress, counts_line
from lecturegen_cli.demo.run import AssetOutcome, DemoResult
from shared.status import AssetStatus

STATUS_STYLES = {
    AssetStatus.PENDING: "cyan",
    AssetStatus.RETRYING: "yellow",
    AssetStatus.GENERATED: "green",
    AssetStatus.NEEDS_PROMPT_UPDATE: "magenta",
    AssetStatus.FAILED: "red",
}


class ProgressDisplay:
    """A rich progress bar: assets in a terminal status out of all, and counts per status."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]assets"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
        )
        self._task = self._progress.add_task("submitting ...", total=None)

    def __enter__(self) -> ProgressDisplay:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, progress: LectureProgress) -> None:
        self._progress.update(
            self._task,
            completed=progress.terminal,
            total=progress.total,
            description=counts_line(progress.counts()),
        )


def outcome_table(result: DemoResult) -> Table:
    """One row per asset, in timeline order (asset ids: `--json`, or the assets endpoint)."""
    table = Table(title=f"lecture {result.lecture_id}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("seg", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("error code", no_wrap=True)
    table.add_column("tries", justify="right")
    table.add_column("scenario", overflow="fold", min_width=14)
    for asset in sorted(result.assets, key=_order):
        table.add_row(
            asset.segment_id or "—",
            asset.kind.value,
            f"[{STATUS_STYLES[asset.status]}]{asset.status.value}[/]",
            asset.error_code or "",
            str(asset.attempts),
            _scenario(asset),
        )
    return table


def summary_line(result: DemoResult) -> str:
    counts = counts_line({s: sum(a.status is s for a in result.assets) for s in AssetStatus})
    unexpected = [a for a in result.assets if a.as_expected is False]
    verdict = (
        "every asset ended as its scenario expects"
        if not unexpected
        else f"[yellow]{len(unexpected)} asset(s) ended differently than their scenario expects[/]"
    )
    state = "done" if result.complete else "[red]timed out[/]"
    return f"{state} in {result.elapsed_s:.0f}s: {counts}; {verdict}"


def _scenario(asset: AssetOutcome) -> str:
    story = asset.story or ""
    if asset.as_expected is False:
        return f"{story} [yellow](expected {asset.expected})[/]".strip()
    return story


def _order(asset: AssetOutcome) -> tuple[int, str, str]:
    sid = asset.segment_id or ""
    position = int(sid[1:]) if sid[1:].isdigit() else 999
    return (position, sid, asset.kind.value)
