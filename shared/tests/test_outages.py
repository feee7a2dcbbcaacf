"""An outage logs one warning, a reminder now and then, and one line when it is over."""

from __future__ import annotations

import logging

import pytest

from shared.outages import Outage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "shared.outages"]


def test_a_long_outage_gives_one_warning_reminders_and_one_recovery_line(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watch = Outage("postgresql", remind_every_s=60, confirm_after_s=1, clock=clock)
    with caplog.at_level(logging.INFO):
        for step in range(1500):  # 150 s of failures, ten a second
            clock.now = step / 10
            watch.failed("ConnectionRefusedError")
        watch.recovered()
        watch.recovered()

    levels = [level for level, _ in _lines(caplog)]
    assert levels == ["WARNING", "WARNING", "WARNING", "INFO"]
    messages = [message for _, message in _lines(caplog)]
    assert "is unreachable" in messages[0]
    assert "still unreachable after 61 s" in messages[1]
    assert "reachable again after 149.9 s" in messages[3]


def test_a_blip_shorter_than_the_confirmation_time_logs_nothing(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watch = Outage("kafka", confirm_after_s=1, clock=clock)
    with caplog.at_level(logging.INFO):
        watch.failed("refused")
        clock.now = 0.5
        watch.failed("refused")
        watch.recovered()
    assert _lines(caplog) == []
    assert not watch.down


def test_a_flapping_dependency_logs_one_warning_and_one_recovery_per_reminder_period(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watch = Outage("kafka", remind_every_s=60, confirm_after_s=1, clock=clock)
    with caplog.at_level(logging.INFO):
        for cycle in range(10):  # down for 2 s, up, every 5 s
            start = cycle * 5.0
            for tick in range(3):
                clock.now = start + tick
                watch.failed("refused")
            watch.recovered()
    assert [level for level, _ in _lines(caplog)] == ["WARNING", "INFO"]


def test_failures_far_apart_are_blips_not_one_outage(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watch = Outage("kafka", confirm_after_s=1, forget_after_s=10, clock=clock)
    with caplog.at_level(logging.INFO):
        for second in (0, 30, 60):
            clock.now = second
            watch.failed("refused")
    assert _lines(caplog) == []
