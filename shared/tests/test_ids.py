import os
import time
import uuid

from shared.ids import MonotonicUuid7, derived_id, new_id, uuid7

MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
FULL = 2**80 - 1


def timestamp_ms(value: uuid.UUID) -> int:
    return value.int >> 80


def test_a_new_id_is_a_uuid_version_7_of_the_rfc_variant() -> None:
    value = uuid.UUID(new_id())

    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_a_uuid7_carries_the_unix_milliseconds_it_was_made_at() -> None:
    before = int(time.time() * 1000)
    made = uuid7()
    after = int(time.time() * 1000)

    assert before <= timestamp_ms(made) <= after
    assert timestamp_ms(uuid7(now_ms=MS)) == MS


def test_ids_made_one_after_another_are_unique_and_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(5_000)]  # many share a millisecond

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_ids_made_at_later_times_sort_later() -> None:
    assert str(uuid7(now_ms=MS)) < str(uuid7(now_ms=MS + 1)) < str(uuid7(now_ms=MS + 1_000))


def test_within_one_millisecond_the_next_id_counts_up_from_the_last() -> None:
    ids = MonotonicUuid7()

    first = ids.next(MS, 1 << 70)
    second = ids.next(MS, 0)  # would sort before `first`

    assert second.int == first.int + 1
    assert (second.version, timestamp_ms(second)) == (7, MS)


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    ids = MonotonicUuid7()

    first = ids.next(MS, 12345)
    second = ids.next(MS - 5_000, 12345)

    assert second > first
    assert timestamp_ms(second) == MS


def test_a_full_counter_moves_on_to_the_next_millisecond_keeping_a_valid_uuid7() -> None:
    ids = MonotonicUuid7()

    first = ids.next(MS, FULL)  # the counting part (rand_b) is all ones
    second = ids.next(MS, 0)

    assert second > first
    assert timestamp_ms(second) == MS + 1
    assert (second.version, second.variant) == (7, uuid.RFC_4122)


def test_a_derived_id_is_stable_for_the_same_parts() -> None:
    assert derived_id("event-1", "asset-9") == derived_id("event-1", "asset-9")


def test_derived_ids_differ_when_the_parts_differ_or_split_differently() -> None:
    ids = {
        derived_id("event-1", "asset-9"),
        derived_id("event-1", "asset-8"),
        derived_id("event-1asset-9"),
    }

    assert len(ids) == 3


def test_a_forked_child_draws_random_bits_of_its_own() -> None:
    new_id()  # the parent has read random bits ahead
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only reports and exits
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    in_child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(child, 0)
    in_parent = new_id()

    # the same millisecond would give the same id if both drew the same bits
    assert uuid.UUID(in_child).int & (2**62 - 1) != uuid.UUID(in_parent).int & (2**62 - 1)
