"""The provider circuits `lecturegen status` shows, from the health topic. The table is pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from shared.health.board import CircuitView
from shared.health.breaker import State

STYLES = {State.CLOSED: "green", State.HALF_OPEN: "yellow", State.OPEN: "red"}


def circuits_json(views: dict[str, CircuitView]) -> list[dict[str, Any]]:
    return [
        {
            "circuit": key,
            "state": view.state.value,
            "since": view.since.isoformat(),
            "unavailable_since": (
                view.unavailable_since.isoformat() if view.unavailable_since else None
            ),
            "error_rate": round(view.error_rate, 4),
            "reason": view.reason,
        }
        for key, view in sorted(views.items())
    ]


def circuits_table(views: dict[str, CircuitView], now: datetime | None = None) -> Table:
    now = now or datetime.now(UTC)
    table = Table(box=None, pad_edge=False)
    for column in ("provider/model", "circuit", "for", "error rate", "reason"):
        table.add_column(column, no_wrap=column != "reason")
    for key, view in sorted(views.items()):
        style = STYLES[view.state]
        table.add_row(
            key,
            f"[{style}]{view.state.value}[/]",
            f"{max(0, (now - view.since).total_seconds()):.0f} s",
            f"{view.error_rate:.0%}",
            view.reason,
        )
    return table
