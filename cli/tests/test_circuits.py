from datetime import UTC, datetime, timedelta

from rich.console import Console

from lecturegen_cli.ops.circuits import circuits_json, circuits_table
from shared.health.board import CircuitView
from shared.health.breaker import State

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VIEWS = {
    "replicate/acme/painter": CircuitView(State.OPEN, T0, T0, 0.75, "9 of 12 attempts failed"),
    "replicate/acme/singer": CircuitView(State.CLOSED, T0 - timedelta(hours=1)),
}


def test_status_shows_each_circuit_with_its_state_age_and_error_rate() -> None:
    console = Console(width=160, record=True)
    console.print(circuits_table(VIEWS, now=T0 + timedelta(seconds=42)))
    text = console.export_text()

    painter = next(line for line in text.splitlines() if "painter" in line)
    assert "open" in painter
    assert "42 s" in painter
    assert "75%" in painter
    assert "9 of 12 attempts failed" in painter
    assert "closed" in next(line for line in text.splitlines() if "singer" in line)


def test_status_json_names_every_circuit() -> None:
    data = circuits_json(VIEWS)

    assert [c["circuit"] for c in data] == ["replicate/acme/painter", "replicate/acme/singer"]
    assert data[0]["state"] == "open"
    assert data[0]["unavailable_since"] == T0.isoformat()
    assert data[1]["unavailable_since"] is None
