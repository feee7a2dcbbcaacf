from shared.worker.offsets import OffsetTracker


def test_nothing_is_committable_before_anything_is_received() -> None:
    assert OffsetTracker().to_commit() is None


def test_the_commit_stops_at_the_first_unfinished_offset_when_later_ones_finish_first() -> None:
    tracker = OffsetTracker()
    for offset in range(10, 15):
        tracker.received(offset)
    for offset in (11, 13, 14):
        tracker.done(offset)

    assert tracker.to_commit() == 10  # 10 is still running: nothing past it may be committed

    tracker.done(10)
    assert tracker.to_commit() == 12

    tracker.done(12)
    assert tracker.to_commit() == 15


def test_a_committed_watermark_is_not_offered_again_until_it_moves() -> None:
    tracker = OffsetTracker()
    tracker.received(0)
    tracker.done(0)
    tracker.committed(tracker.to_commit() or 0)

    assert tracker.to_commit() is None
    tracker.received(1)
    assert tracker.to_commit() is None  # 1 is not done: the watermark is still 1
    tracker.done(1)
    assert tracker.to_commit() == 2


def test_a_tracker_resumed_from_a_committed_offset_starts_there() -> None:
    tracker = OffsetTracker(committed=40)

    assert tracker.to_commit() is None
    assert tracker.next_offset == 40
    tracker.received(40)
    tracker.done(40)
    assert tracker.to_commit() == 41


def test_in_progress_counts_received_offsets_that_are_not_done() -> None:
    tracker = OffsetTracker()
    for offset in range(3):
        tracker.received(offset)
    tracker.done(1)

    assert tracker.in_progress == 2
    assert tracker.watermark == 0
