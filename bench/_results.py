"""One row per figure: printed as the benchmark runs, and appended to `.local/bench/results.jsonl`.

Every benchmark under `bench/` reports through `record`; `make bench` prints the whole table at
the end with `python bench/_results.py table`. A figure is a measurement next to a baseline taken
in the same run, so the ratio is what stays comparable on a noisy machine.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / ".local" / "bench" / "results.jsonl"


@dataclass(frozen=True)
class Figure:
    """One measured figure; `ratio` is value / baseline when there is a baseline."""

    figure: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    goal: str
    met: bool


def record(
    figure: str,
    value: float,
    unit: str,
    *,
    goal: str,
    met: bool,
    baseline: float | None = None,
) -> Figure:
    """Append one figure to the results file and print it as a line."""
    ratio = round(value / baseline, 4) if baseline else None
    row = Figure(figure, round(value, 4), unit, baseline, ratio, goal, met)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(row)) + "\n")
    print(_line(row), flush=True)
    return row


def reset() -> None:
    """Start a new results file (`make bench` does this before the first benchmark)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("", encoding="utf-8")


def _line(row: Figure) -> str:
    baseline = "" if row.baseline is None else f"{row.baseline:,.1f}"
    ratio = "" if row.ratio is None else f"{row.ratio:.3f}x"
    verdict = "met" if row.met else "NOT met"
    return (
        f"{row.figure:<28} {row.value:>12,.1f} {row.unit:<10} {baseline:>12} {ratio:>8}"
        f"  {row.goal:<22} {verdict}"
    )


def table() -> int:
    """Print every figure of the last run; exit status 0 whether or not goals were met."""
    rows = [Figure(**json.loads(line)) for line in RESULTS.read_text().splitlines() if line]
    print(
        f"{'figure':<28} {'measured':>12} {'unit':<10} {'baseline':>12} {'ratio':>8}"
        f"  {'goal':<22} result"
    )
    for row in rows:
        print(_line(row))
    return 0


if __name__ == "__main__":
    sys.exit(table() if sys.argv[1:] == ["table"] else reset() or 0)
