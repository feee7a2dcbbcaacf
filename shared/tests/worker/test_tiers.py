"""When tier records run: never early, head first, hops for hints beyond the longest tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import headers as h
from shared import topics
from shared.kafka.records import Record
from shared.media import MediaKind
from shared.retry import RetryPolicy
from shared.worker.partitions import PartitionQueue
from shared.worker.tiers import Hop, Run, Wait, head_action

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
POLICY = RetryPolicy()  # tiers 5 s, 10 s, 20 s, then 40 s … 300 s
TIER_5S = topics.retry_tier(MediaKind.IMAGE, 5000)


def _tier_record(offset: int, written: datetime, due: datetime | None = None) -> Record:
    headers = [(h.ATTEMPT, b"2")]
    if due is not None:
        headers.append((h.DUE_AT, due.isoformat().encode()))
    return Record(TIER_5S, 0, offset, int(written.timestamp() * 1000), b"a", b"{}", headers)


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_a_tier_record_waits_until_its_timestamp_plus_the_tier_delay() -> None:
    record = _tier_record(0, T0, due=T0 + _s(5))

    assert head_action(record, 5000, POLICY, T0 + _s(4.999)) == Wait(T0 + _s(5))
    assert head_action(record, 5000, POLICY, T0 + _s(5)) == Run()


def test_a_record_written_late_is_due_later_than_its_due_header() -> None:
    # DUE_AT was set when the attempt failed; the write came 2 s later: the tier counts.
    record = _tier_record(0, T0 + _s(2), due=T0 + _s(5))

    assert head_action(record, 5000, POLICY, T0 + _s(6)) == Wait(T0 + _s(7))


def test_a_due_header_a_hair_past_the_tier_is_waited_for_rather_than_hopped() -> None:
    # timestamps are whole milliseconds; DUE_AT is not
    record = _tier_record(0, T0, due=T0 + _s(5.0004))

    assert head_action(record, 5000, POLICY, T0 + _s(5)) == Wait(T0 + _s(5.0004))
    assert head_action(record, 5000, POLICY, T0 + _s(5.0004)) == Run()


def test_a_hint_beyond_the_longest_tier_hops_through_a_tier_again_when_its_tier_is_over() -> None:
    record = Record(
        topics.retry_tier(MediaKind.IMAGE, 300_000),
        0,
        0,
        int(T0.timestamp() * 1000),
        b"a",
        b"{}",
        [(h.DUE_AT, (T0 + _s(420)).isoformat().encode())],
    )

    assert head_action(record, 300_000, POLICY, T0 + _s(10)) == Wait(T0 + _s(300))
    # 120 s still to go: the shortest tier that waits at least that long
    assert head_action(record, 300_000, POLICY, T0 + _s(300)) == Hop(160_000)


def test_a_tier_partition_hands_out_only_its_due_head_and_pauses_while_it_waits() -> None:
    queue = PartitionQueue(TIER_5S, 0, 5000, POLICY)
    first = _tier_record(10, T0, due=T0 + _s(5))
    second = _tier_record(11, T0 + _s(1), due=T0 + _s(6))
    queue.add([first, second])

    assert queue.take(T0 + _s(4), 10) == []
    assert queue.wants_pause(T0 + _s(4), max_buffered=100)
    assert queue.wake_at(T0 + _s(4)) == T0 + _s(5)

    assert queue.take(T0 + _s(5), 10) == [(first, Run())]
    assert queue.wake_at(T0 + _s(5)) == T0 + _s(6)
    assert queue.take(T0 + _s(6), 10) == [(second, Run())]
    assert not queue.wants_pause(T0 + _s(6), max_buffered=100)
    assert queue.wake_at(T0 + _s(6)) is None


def test_records_behind_a_waiting_head_never_run_before_it() -> None:
    queue = PartitionQueue(TIER_5S, 0, 5000, POLICY)
    # the second one carries an earlier due header, but it sits behind the head
    queue.add([_tier_record(0, T0, due=T0 + _s(5)), _tier_record(1, T0, due=T0 + _s(1))])

    assert queue.take(T0 + _s(4.9), 10) == []


def test_a_request_partition_hands_out_everything_up_to_the_limit() -> None:
    queue = PartitionQueue(topics.requests(MediaKind.IMAGE), 0, None, POLICY)
    records = [_tier_record(i, T0) for i in range(5)]
    queue.add(records)

    assert [r for r, _ in queue.take(T0, 3)] == records[:3]
    assert queue.buffered == 2
    assert queue.wake_at(T0) is None


def test_a_partition_pauses_when_it_holds_enough_records_and_resumes_as_they_are_done() -> None:
    queue = PartitionQueue(topics.requests(MediaKind.IMAGE), 0, None, POLICY)
    queue.add(_tier_record(i, T0) for i in range(4))

    assert queue.wants_pause(T0, max_buffered=4)
    [(first, _)] = queue.take(T0, 1)
    # started but not done: a turn past its provider call holds no slot, so it still counts
    assert queue.wants_pause(T0, max_buffered=4)
    queue.offsets.done(first.offset)
    assert not queue.wants_pause(T0, max_buffered=4)


def test_records_handed_out_stay_uncommitted_until_done() -> None:
    queue = PartitionQueue(topics.requests(MediaKind.IMAGE), 0, None, POLICY)
    queue.add(_tier_record(i, T0) for i in range(3))
    queue.take(T0, 3)
    queue.offsets.done(1)

    assert queue.offsets.to_commit() == 0
