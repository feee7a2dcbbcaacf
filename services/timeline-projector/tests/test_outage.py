import logging

import pytest

from timeline_projector.outage import DatabaseOutage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_logs_one_warning_a_reminder_per_period_and_one_line_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    outage = DatabaseOutage(remind_every_s=60, clock=clock)
    caplog.set_level(logging.INFO, logger="timeline_projector.outage")

    for _ in range(1000):  # a second of failing tries, many times over
        outage.failed(ConnectionRefusedError())
        clock.now += 0.15
    assert outage.down
    outage.recovered()
    outage.recovered()

    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "PostgreSQL is unreachable; waiting for it",
        ),
        ("WARNING", "PostgreSQL is still unreachable; waiting for it"),
        ("WARNING", "PostgreSQL is still unreachable; waiting for it"),
        ("INFO", "PostgreSQL is reachable again; projecting"),
    ]
    assert not outage.down


def test_a_database_that_never_went_away_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="timeline_projector.outage")
    outage = DatabaseOutage()

    outage.recovered()

    assert caplog.records == []
