"""How `status` shows the components: a table for people, JSON for scripts. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

STATE_STYLES = {
    "running": "green",
    "ready": "green",
    "starting": "cyan",
    "crashed": "red",
    "stopped": "dim",
    "unreachable": "red",
    "orphaned": "yellow",
}


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """One line of `lecturegen status`."""

    name: str
    state: str
    """running, starting, crashed (restarting), stopped, unreachable, orphaned"""
    address: str | None = None
    pid: int | None = None
    restarts: int | None = None
    lag: int | None = None
    """Records its consumer group has still to read; None when it consumes nothing."""
    consumes: bool = False
    detail: str | None = None
    replica: str | None = None
    """Which replica of its component it is (`2/3`), when the run scaled that out."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["consumes"]
        return data


def status_table(rows: list[ComponentStatus]) -> Table:
    table = Table(box=None, pad_edge=False)
    columns = ["component", "state", "pid", "restarts", "address", "lag"]
    scaled = any(row.replica for row in rows)
    if scaled:
        columns.insert(1, "replica")
    if any(row.detail for row in rows):
        columns.append("detail")
    for column in columns:
        numeric = column in ("pid", "restarts", "lag")
        table.add_column(
            column,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=column in ("component", "state"),
        )
    for row in rows:
        style = STATE_STYLES.get(row.state, "")
        table.add_row(
            row.name,
            *([row.replica or ""] if scaled else []),
            f"[{style}]{row.state}[/]" if style else row.state,
            _number(row.pid),
            _number(row.restarts),
            row.address or "",
            _lag(row),
            *([row.detail or ""] if "detail" in columns else []),
        )
    return table


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _lag(row: ComponentStatus) -> str:
    if not row.consumes:
        return ""
    return "?" if row.lag is None else str(row.lag)
