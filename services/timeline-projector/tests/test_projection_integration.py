import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.envelope import Envelope, encode, envelop
from shared.errors import GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetEvent,
    AssetGenerated,
    AssetPlan,
    AssetRegenerationRequested,
    AssetRetrying,
    LectureCreated,
    MediaRef,
    Payload,
    SegmentPlan,
)
from shared.kafka.records import Outgoing
from shared.media import MediaKind
from shared.testing.databases import fresh_database
from timeline_projector import generations
from timeline_projector.batch import apply_records
from timeline_projector.config import Settings
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import (
    Projection,
    expected_rows,
    lecture_key,
    make_settings,
    stored_rows,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def stamped(payloads: list[Payload]) -> list[Envelope]:
    return [envelop(p, "test", now=T0 + timedelta(seconds=i)) for i, p in enumerate(payloads)]


def reshuffled(log: list[Envelope], seed: int) -> list[Envelope]:
    """The same events, lectures interleaved differently, each lecture's order kept, and every
    event written twice (half of them right away, all of them again at the end)."""
    rng = random.Random(seed)
    by_lecture: dict[bytes, list[Envelope]] = defaultdict(list)
    for envelope in log:
        by_lecture[lecture_key(envelope)].append(envelope)
    queues = [list(events) for events in by_lecture.values()]
    out: list[Envelope] = []
    while queues:
        queue = rng.choice(queues)
        envelope = queue.pop(0)
        out += [envelope, envelope] if rng.random() < 0.5 else [envelope]
        if not queue:
            queues.remove(queue)
    return out + log


async def test_events_in_give_the_views_the_reducers_define(projection: Projection) -> None:
    log = list(synthetic_log(12, seed=1))
    await projection.produce(log)

    async with projection.running():
        await projection.wait_caught_up()

    conn = await projection.connect()
    try:
        generation = await generations.current(conn)
        assert generation is not None
        assert await stored_rows(conn, generation.schema) == expected_rows(log)
        read_count = await conn.fetchval("SELECT count(*) FROM lecturegen_read.lectures")
    finally:
        await conn.close()
    assert read_count == 12


async def test_duplicated_and_reshuffled_logs_give_identical_views(
    projection: Projection, kafka_bootstrap: str, postgres_dsn: str, unique_name: str
) -> None:
    log = list(synthetic_log(10, seed=2))
    await projection.produce(log)
    async with projection.running():
        await projection.wait_caught_up()
    reference = await projection.checksums()

    async with fresh_database(postgres_dsn, f"test_{unique_name}_b") as other_dsn:
        other = Projection(make_settings(kafka_bootstrap, other_dsn, f"{unique_name}b"))
        await other.create_topic()
        await other.produce(reshuffled(log, seed=3))
        async with other.running():
            await other.wait_caught_up()
        assert await other.checksums() == reference
        assert reference["lecture_event_feed"].rows == sum(
            isinstance(e.payload, AssetEvent) for e in log
        )


async def test_records_delivered_again_at_the_same_offsets_change_nothing(
    projection: Projection,
) -> None:
    log = list(synthetic_log(3, seed=4))
    await projection.produce(log)
    async with projection.running():
        await projection.wait_caught_up()
    before = await projection.checksums()

    records = await projection.read_back()
    conn = await projection.connect()
    try:
        generation = await generations.current(conn)
        assert generation is not None
        async with conn.transaction():
            result = await apply_records(
                conn, generation.schema, projection.settings.projector.group_id, records
            )
    finally:
        await conn.close()

    assert result.skipped == len(records)
    assert await projection.checksums() == before


async def test_a_late_result_of_version_1_after_a_regeneration_lands_only_in_the_history(
    projection: Projection,
) -> None:
    lecture = LectureCreated(
        lecture_id="lec",
        title="t",
        duration_s=10,
        segments=(SegmentPlan(segment_id="s1", start_s=0, duration_s=10),),
        assets=(
            AssetPlan(asset_id="a1", kind=MediaKind.IMAGE, segment_id="s1", prompt="p", model="m"),
        ),
    )
    common = {"lecture_id": "lec", "asset_id": "a1", "kind": MediaKind.IMAGE, "segment_id": "s1"}
    late = AssetGenerated(
        **common,
        prompt_version=1,
        media=MediaRef(blob_key="old.png", content_type="image/png", size_bytes=3),
        prompt="p",
        model="m",
        prediction_id="pred-old",
        attempts=1,
    )
    log = stamped(
        [
            lecture,
            AssetAttemptStarted(**common, prompt_version=1, attempt=1, started_at=T0),
            AssetRegenerationRequested(**common, prompt_version=2, prompt="p2", model="m2"),
            late,
        ]
    )
    await projection.produce(log)

    async with projection.running():
        await projection.wait_caught_up()

    (asset,) = await projection.fetch(
        "SELECT status, prompt_version, prompt, media_blob_key FROM lecturegen_read.assets"
    )
    assert tuple(asset) == ("pending", 2, "p2", None)
    attempts = await projection.fetch(
        "SELECT prompt_version, attempt, outcome, superseded, prediction_id, event_id "
        "FROM lecturegen_read.asset_attempts"
    )
    assert [tuple(row) for row in attempts] == [(1, 1, "generated", True, "pred-old", log[3].id)]
    feed = await projection.fetch(
        "SELECT event_type, applied FROM lecturegen_read.lecture_event_feed ORDER BY seq"
    )
    assert [tuple(row) for row in feed] == [
        ("asset.attempt-started", True),
        ("asset.regeneration-requested", True),
        ("asset.generated", False),
    ]


async def test_the_feed_counts_each_lecture_without_gaps_and_listeners_are_notified(
    projection: Projection,
) -> None:
    log = list(synthetic_log(4, seed=5))
    per_lecture: dict[str, int] = defaultdict(int)
    for envelope in log:
        if isinstance(envelope.payload, AssetEvent):
            per_lecture[envelope.payload.lecture_id] += 1
    heads: dict[str, int] = {}
    everything_notified = asyncio.Event()

    def on_notify(_conn: Any, _pid: int, channel: str, payload: object) -> None:
        lecture_id, _, seq = str(payload).rpartition(":")
        heads[lecture_id] = max(heads.get(lecture_id, 0), int(seq))
        if heads == per_lecture:
            everything_notified.set()

    listener = await projection.connect()
    try:
        await listener.add_listener("lecturegen_events", on_notify)
        await projection.produce(log)
        async with projection.running():
            await asyncio.wait_for(everything_notified.wait(), timeout=60)
        await listener.remove_listener("lecturegen_events", on_notify)
    finally:
        await listener.close()

    rows = await projection.fetch(
        "SELECT lecture_id, array_agg(seq ORDER BY seq) AS seqs "
        "FROM lecturegen_read.lecture_event_feed GROUP BY lecture_id"
    )
    assert {row["lecture_id"]: row["seqs"] for row in rows} == {
        lecture_id: list(range(1, n + 1)) for lecture_id, n in per_lecture.items()
    }


async def test_an_undecodable_record_is_recorded_and_skipped_without_blocking(
    projection: Projection,
) -> None:
    good = list(synthetic_log(1, seed=6))
    value, headers = encode(good[0])
    bad_type = [(k, b"lecturegen.no-such-event.v1" if k == "ce_type" else v) for k, v in headers]
    broken = [
        Outgoing(projection.topic, lecture_key(good[0]), b"not json", headers),
        Outgoing(projection.topic, lecture_key(good[0]), value, bad_type),
        Outgoing(
            projection.topic, lecture_key(good[0]), b"{}", [("content-type", b"application/json")]
        ),
    ]
    await projection.produce([*broken, *good])

    async with projection.running():
        await projection.wait_caught_up()

    rejected = await projection.fetch(
        'SELECT "offset", reason, event_type FROM lecturegen_read.projector_rejected_events '
        'ORDER BY "offset"'
    )
    assert [row["offset"] for row in rejected] == [0, 1, 2]
    assert "not JSON" in rejected[0]["reason"]
    assert "unknown event type" in rejected[1]["reason"]
    assert "not a CloudEvent" in rejected[2]["reason"]
    assert await projection.fetch("SELECT 1 FROM lecturegen_read.lectures") != []


async def test_an_event_postgresql_cannot_store_is_rejected_and_the_rest_of_its_batch_applied(
    projection: Projection,
) -> None:
    good = list(synthetic_log(1, seed=8))
    poison = good[0].payload.model_copy(update={"title": "nul \x00 in the title"})
    poisoned = envelop(poison, "test", now=T0)
    other = LectureCreated(lecture_id="other", title="fine", duration_s=1, segments=(), assets=())
    await projection.produce([poisoned, *stamped([other])])

    async with projection.running():
        await projection.wait_caught_up()

    rejected = await projection.fetch(
        "SELECT event_id, reason FROM lecturegen_read.projector_rejected_events"
    )
    assert [row["event_id"] for row in rejected] == [poisoned.id]
    assert "cannot be stored" in rejected[0]["reason"]
    titles = await projection.fetch("SELECT title FROM lecturegen_read.lectures")
    assert [row["title"] for row in titles] == ["fine"]


async def test_a_retrying_asset_is_visible_with_its_error_while_the_log_continues(
    settings: Settings, projection: Projection
) -> None:
    error = GenerationError.rate_limited("Request was throttled.", retry_after_s=30).info
    lecture = LectureCreated(
        lecture_id="lec",
        title="t",
        duration_s=5,
        segments=(SegmentPlan(segment_id="s1", start_s=0, duration_s=5),),
        assets=(
            AssetPlan(
                asset_id="n1", kind=MediaKind.NARRATION, segment_id="s1", prompt="hi", model="m"
            ),
        ),
    )
    retrying = AssetRetrying(
        lecture_id="lec",
        asset_id="n1",
        kind=MediaKind.NARRATION,
        segment_id="s1",
        prompt_version=1,
        attempt=1,
        retried_count=1,
        delay_s=30,
        next_attempt_at=T0,
        error=error,
    )
    await projection.produce(stamped([lecture, retrying]))

    async with projection.running():
        await projection.wait_caught_up()

    (row,) = await projection.fetch(
        "SELECT status, retried_count, error->>'code' AS code, (error->>'retry_after_s')::float "
        "AS hint FROM lecturegen_read.assets"
    )
    assert tuple(row) == ("retrying", 1, "RATE_LIMITED", 30.0)
