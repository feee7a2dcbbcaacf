"""The pure part of provider-wide faults: token buckets, outages, what each call is answered."""

from __future__ import annotations

from replicate_sim.account import Bucket, Call, ProviderFaults, ServedCounts, Throttle, call_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    bucket = Bucket(per_min=60, capacity=2, now=0.0)
    assert [bucket.take(0.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take(0.0) == 1.0
    assert bucket.take(0.5) == 0.5
    assert bucket.take(1.0) == 0.0


def test_a_bucket_never_saves_more_than_its_capacity() -> None:
    bucket = Bucket(per_min=60, capacity=2, now=0.0)
    assert bucket.remaining(3600.0) == 2


def test_a_throttle_bursts_ten_seconds_of_its_limit_by_default() -> None:
    buckets = Throttle(creates_per_min=60, reads_per_min=300).buckets(0.0)
    assert (buckets[Call.CREATE].capacity, buckets[Call.READ].capacity) == (10.0, 50.0)


def test_creates_are_posts_to_a_predictions_collection_and_everything_else_is_a_read() -> None:
    assert call_of("POST", "/v1/models/o/n/predictions") is Call.CREATE
    assert call_of("POST", "/v1/predictions") is Call.CREATE
    assert call_of("GET", "/v1/predictions/abc") is Call.READ
    assert call_of("POST", "/v1/predictions/abc/cancel") is Call.READ


def test_an_outage_refuses_every_call_with_503_until_it_ends() -> None:
    clock = FakeClock()
    faults = ProviderFaults(clock)
    faults.start_outage(5)
    refused = faults.admit(Call.CREATE)
    assert refused is not None
    assert refused.status == 503
    assert faults.admit(Call.READ, outage_applies=False) is None
    clock.now += 5
    assert faults.admit(Call.CREATE) is None
    assert faults.active() == []


def test_a_throttle_answers_429_with_the_whole_seconds_until_the_next_token() -> None:
    clock = FakeClock()
    faults = ProviderFaults(clock)
    faults.start_throttle(Throttle(creates_per_min=6, reads_per_min=600, burst_s=10))
    assert faults.admit(Call.CREATE) is None  # a burst of one
    refused = faults.admit(Call.CREATE)
    assert refused is not None
    assert (refused.status, refused.retry_after_s) == (429, 10)
    assert refused.detail == "Request was throttled. Your rate limit resets in ~10s."
    assert faults.admit(Call.READ) is None  # reads have their own budget
    clock.now += 10
    assert faults.admit(Call.CREATE) is None


def test_faults_are_listed_while_they_last_and_cleared_together() -> None:
    clock = FakeClock()
    faults = ProviderFaults(clock)
    faults.start_outage(30)
    faults.start_throttle(Throttle(60, 300))
    clock.now += 10
    assert faults.active() == [
        {"mode": "outage", "for_s": 30.0, "remaining_s": 20.0},
        {"mode": "throttle", "creates_per_min": 60, "reads_per_min": 300, "burst_s": 10.0},
    ]
    faults.clear()
    assert faults.active() == []
    assert faults.admit(Call.CREATE) is None


def test_served_counts_tell_creates_from_reads_and_count_429s_and_503s() -> None:
    served = ServedCounts()
    for call, status in [
        (Call.CREATE, 201),
        (Call.CREATE, 429),
        (Call.READ, 503),
        (Call.READ, 200),
    ]:
        served.count(call, status)
    assert served.to_json() == {"creates": 2, "reads": 2, "throttled": 1, "unavailable": 1}
