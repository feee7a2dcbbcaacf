"""How often a running prediction is read: by medium, and within the process's read budget."""

from __future__ import annotations

import pytest

from shared.media import MediaKind
from shared.providers.polling import (
    POLL_SHARE,
    SCHEDULES,
    PollSchedule,
    next_poll_s,
    schedule_for,
)


def test_an_image_is_checked_sooner_and_more_often_than_a_video() -> None:
    image, video = SCHEDULES[MediaKind.IMAGE], SCHEDULES[MediaKind.VIDEO]
    assert image.delay(0) < SCHEDULES[MediaKind.NARRATION].delay(0) < video.delay(0)
    assert image.max_s < video.max_s


def test_checks_back_off_up_to_the_schedules_cap() -> None:
    schedule = PollSchedule(first_s=1.0, factor=2.0, max_s=5.0)
    assert [schedule.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_configured_interval_is_fixed_for_every_medium() -> None:
    for kind in MediaKind:
        schedule = schedule_for(kind, 0.1)
        assert [schedule.delay(n) for n in range(3)] == [0.1, 0.1, 0.1]
    assert schedule_for(MediaKind.MUSIC) == SCHEDULES[MediaKind.MUSIC]


def test_a_few_predictions_are_polled_on_their_schedule() -> None:
    schedule = PollSchedule(first_s=1.0)
    assert next_poll_s(schedule, 0, polling=3, reads_per_s=12.5) == 1.0


def test_many_predictions_are_spread_so_their_reads_fit_the_budget() -> None:
    # 32 predictions under 300 reads/min: each read at most every 32 / (5 * share) s
    delay = next_poll_s(PollSchedule(first_s=1.0), 0, polling=32, reads_per_s=5.0)
    assert delay == pytest.approx(32 / (5.0 * POLL_SHARE))
    assert 32 / delay <= 5.0 * POLL_SHARE + 1e-9
