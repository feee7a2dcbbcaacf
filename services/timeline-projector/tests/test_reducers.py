from datetime import UTC, datetime, timedelta
from typing import Any

from shared.envelope import Envelope, envelop
from shared.errors import GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetPlan,
    AssetRegenerationRequested,
    AssetRetrying,
    LectureCreated,
    MediaRef,
    Payload,
    SegmentPlan,
)
from shared.media import MediaKind
from shared.read_model.rows import AssetRow
from timeline_projector.batch_state import BatchState
from timeline_projector.reducers import NO_CHANGES, reduce

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LECTURE = "lec-1"
IMAGE = "asset-img"
SENSITIVE = GenerationError.sensitive_content(
    "The input or output was flagged as sensitive.", provider="replicate", provider_code="E005"
).info
TRANSIENT = GenerationError.transient("Prediction interrupted (code: PA)", provider_code="PA").info


class Log:
    """Envelopes with increasing times, folded into one in-memory state."""

    def __init__(self) -> None:
        self.state = BatchState()
        self.clock = T0

    def envelope(self, payload: Payload) -> Envelope:
        self.clock += timedelta(seconds=1)
        return envelop(payload, "test", now=self.clock)

    def add(self, payload: Payload) -> Envelope:
        env = self.envelope(payload)
        self.state.fold(env)
        return env

    def asset(self, asset_id: str = IMAGE) -> AssetRow:
        row = self.state.asset(asset_id)
        assert row is not None
        return row


def created(lecture_id: str = LECTURE, *, music: bool = False) -> LectureCreated:
    assets = [
        AssetPlan(asset_id=IMAGE, kind=MediaKind.IMAGE, segment_id="s1", prompt="a cat", model="m"),
        AssetPlan(
            asset_id="asset-nar", kind=MediaKind.NARRATION, segment_id="s2", prompt="Hi", model="t"
        ),
    ]
    if music:
        assets.append(
            AssetPlan(asset_id="asset-mus", kind=MediaKind.MUSIC, prompt="calm", model="mm")
        )
    return LectureCreated(
        lecture_id=lecture_id,
        title="Cats",
        duration_s=15,
        segments=(
            SegmentPlan(segment_id="s1", start_s=0, duration_s=10),
            SegmentPlan(segment_id="s2", start_s=10, duration_s=5),
        ),
        assets=tuple(assets),
    )


def common(version: int = 1, lecture_id: str = LECTURE, asset_id: str = IMAGE) -> dict[str, Any]:
    return {
        "lecture_id": lecture_id,
        "asset_id": asset_id,
        "kind": MediaKind.IMAGE,
        "segment_id": "s1",
        "prompt_version": version,
    }


def started(attempt: int, version: int = 1) -> AssetAttemptStarted:
    return AssetAttemptStarted(**common(version), attempt=attempt, started_at=T0)


def retrying(attempt: int, version: int = 1) -> AssetRetrying:
    return AssetRetrying(
        **common(version),
        attempt=attempt,
        retried_count=attempt,
        delay_s=5,
        next_attempt_at=T0,
        error=TRANSIENT,
    )


def generated(attempts: int, version: int = 1, key: str = "ab/cd.png") -> AssetGenerated:
    return AssetGenerated(
        **common(version),
        media=MediaRef(blob_key=key, content_type="image/png", size_bytes=10),
        prompt="a cat",
        model="m",
        provider="replicate",
        prediction_id=f"pred-{version}-{attempts}",
        attempts=attempts,
        retried_count=attempts - 1,
    )


def failed(version: int = 1) -> AssetFailed:
    return AssetFailed(
        **common(version), error=TRANSIENT, prompt="a cat", model="m", retried_count=3, attempts=4
    )


def needs_prompt_update(version: int = 1) -> AssetNeedsPromptUpdate:
    return AssetNeedsPromptUpdate(
        **common(version), error=SENSITIVE, prompt="a cat", model="m", retried_count=0, attempts=1
    )


def regenerate(version: int, prompt: str = "a friendly cat") -> AssetRegenerationRequested:
    return AssetRegenerationRequested(**common(version), prompt=prompt, model="m2")


def test_a_created_lecture_has_its_segments_in_order_and_every_asset_pending_at_version_1() -> None:
    log = Log()

    env = log.add(created(music=True))

    lecture = log.state.lecture(LECTURE)
    assert lecture is not None
    assert (lecture.title, lecture.created_event_id, lecture.created_at) == (
        "Cats",
        env.id,
        env.time,
    )
    segments = sorted(log.state.writes.segments.values(), key=lambda s: s.position)
    assert [(s.segment_id, s.start_s, s.duration_s) for s in segments] == [
        ("s1", 0, 10),
        ("s2", 10, 5),
    ]
    for asset_id in (IMAGE, "asset-nar", "asset-mus"):
        asset = log.asset(asset_id)
        assert (asset.status, asset.prompt_version, asset.error) == ("pending", 1, None)
    assert log.asset("asset-mus").segment_id is None


def test_a_second_lecture_created_for_the_same_lecture_changes_nothing() -> None:
    log = Log()
    log.add(created())

    assert reduce(log.state, log.envelope(created())) == NO_CHANGES


def test_retrying_stores_the_error_and_the_retried_count() -> None:
    log = Log()
    log.add(created())
    log.add(started(1))

    log.add(retrying(1))

    asset = log.asset()
    assert (asset.status, asset.retried_count, asset.attempts) == ("retrying", 1, 1)
    assert asset.error == TRANSIENT.model_dump(mode="json")


def test_a_held_retry_says_the_asset_waits_for_its_provider_until_its_next_event() -> None:
    log = Log()
    log.add(created())
    log.add(started(1))
    log.add(retrying(1))
    assert log.asset().waiting_for is None

    log.add(retrying(1).model_copy(update={"waiting_for": "provider", "retried_count": 0}))
    held = log.asset()
    log.add(started(2))

    assert (held.status, held.waiting_for) == ("retrying", "provider")
    assert (log.asset().status, log.asset().waiting_for) == ("pending", None)


def test_attempt_started_moves_a_retrying_asset_back_to_pending() -> None:
    log = Log()
    log.add(created())
    log.add(retrying(1))

    log.add(started(2))

    assert (log.asset().status, log.asset().attempts) == ("pending", 2)


def test_generated_stores_the_media_and_clears_the_error() -> None:
    log = Log()
    log.add(created())
    log.add(retrying(1))

    log.add(generated(2))

    asset = log.asset()
    assert asset.status == "generated"
    assert asset.error is None
    assert (asset.media_blob_key, asset.media_content_type, asset.media_size_bytes) == (
        "ab/cd.png",
        "image/png",
        10,
    )
    assert (asset.prediction_id, asset.attempts, asset.retried_count) == ("pred-1-2", 2, 1)


def test_failed_and_needs_prompt_update_store_the_full_error_and_retried_count() -> None:
    log = Log()
    log.add(created())
    log.add(needs_prompt_update())

    asset = log.asset()
    assert (asset.status, asset.retried_count) == ("needs_prompt_update", 0)
    assert asset.error == SENSITIVE.model_dump(mode="json")

    other = Log()
    other.add(created())
    other.add(failed())
    assert (other.asset().status, other.asset().retried_count, other.asset().attempts) == (
        "failed",
        3,
        4,
    )


def test_a_terminal_asset_stays_terminal_but_the_event_is_still_in_the_feed() -> None:
    log = Log()
    log.add(created())
    log.add(failed())

    changes = reduce(log.state, log.envelope(retrying(2)))

    assert changes.assets == ()
    assert changes.applied is False
    assert changes.feed is not None
    assert (changes.feed.applied, changes.feed.data["asset_status"]) == (False, "failed")


def test_a_regeneration_starts_the_new_version_pending_with_error_and_media_cleared() -> None:
    log = Log()
    log.add(created())
    log.add(needs_prompt_update())

    log.add(regenerate(2))

    asset = log.asset()
    assert (asset.status, asset.prompt_version, asset.error) == ("pending", 2, None)
    assert (asset.prompt, asset.model, asset.retried_count, asset.attempts) == (
        "a friendly cat",
        "m2",
        0,
        0,
    )


def test_a_regenerated_asset_that_was_generated_loses_its_old_media_until_the_new_one() -> None:
    log = Log()
    log.add(created())
    log.add(generated(1))

    log.add(regenerate(2))
    assert log.asset().media_blob_key is None

    log.add(generated(1, version=2, key="new.png"))
    assert (log.asset().media_blob_key, log.asset().prompt_version) == ("new.png", 2)


def test_a_late_result_of_a_superseded_version_lands_in_the_history_only() -> None:
    log = Log()
    log.add(created())
    log.add(started(1))
    log.add(regenerate(2))

    env = log.envelope(generated(1, version=1, key="old.png"))
    changes = reduce(log.state, env)
    log.state.apply(changes)

    asset = log.asset()
    assert (asset.status, asset.prompt_version, asset.media_blob_key) == ("pending", 2, None)
    attempt = log.state.attempt((IMAGE, 1, 1))
    assert attempt is not None
    assert (attempt.outcome, attempt.superseded, attempt.prediction_id, attempt.event_id) == (
        "generated",
        True,
        "pred-1-1",
        env.id,
    )
    assert changes.feed is not None
    assert changes.feed.applied is False


def test_an_older_version_never_overwrites_a_newer_one() -> None:
    log = Log()
    log.add(created())
    log.add(regenerate(2))
    log.add(generated(1, version=2))

    for late in (retrying(1), failed(1), needs_prompt_update(1), started(3)):
        log.add(late)

    assert (log.asset().status, log.asset().prompt_version) == ("generated", 2)


def test_the_attempt_history_keeps_start_and_outcome_of_each_attempt() -> None:
    log = Log()
    log.add(created())
    log.add(started(1))
    log.add(retrying(1))
    log.add(started(2))
    log.add(generated(2))

    first, second = log.state.attempt((IMAGE, 1, 1)), log.state.attempt((IMAGE, 1, 2))
    assert first is not None
    assert second is not None
    assert (first.started_at, first.outcome, first.error) == (
        T0,
        "retrying",
        TRANSIENT.model_dump(mode="json"),
    )
    assert (second.outcome, second.error, second.superseded) == ("generated", None, False)


def test_the_same_event_twice_changes_nothing_the_second_time() -> None:
    log = Log()
    log.add(created())
    env = log.envelope(retrying(1))
    log.state.fold(env)

    assert reduce(log.state, env) == NO_CHANGES


def test_feed_sequence_numbers_count_per_lecture_without_gaps() -> None:
    log = Log()
    log.add(created("a"))
    log.add(created("b"))
    for lecture_id in ("a", "b", "a", "a", "b"):
        log.add(AssetAttemptStarted(**common(lecture_id=lecture_id), attempt=1, started_at=T0))

    by_lecture: dict[str, list[int]] = {}
    for row in log.state.writes.feed:
        by_lecture.setdefault(row.lecture_id, []).append(row.seq)
    assert by_lecture == {"a": [1, 2, 3], "b": [1, 2]}
    assert {row.event_type for row in log.state.writes.feed} == {"asset.attempt-started"}


def test_an_event_for_an_unknown_asset_creates_its_row_from_the_event() -> None:
    log = Log()

    log.add(generated(1))

    asset = log.asset()
    assert (asset.lecture_id, asset.kind, asset.status, asset.media_blob_key) == (
        LECTURE,
        "image",
        "generated",
        "ab/cd.png",
    )


def test_an_asset_stored_without_a_status_reads_as_generated_and_is_terminal() -> None:
    log = Log()
    log.add(created())
    legacy = BatchState(assets=[log.asset()._replace(status=None)])

    changes = reduce(legacy, log.envelope(retrying(1)))

    assert changes.assets == ()
    assert changes.feed is not None
    assert changes.feed.data["asset_status"] == "generated"


def test_an_applied_asset_event_moves_the_lectures_updated_at() -> None:
    log = Log()
    log.add(created())

    env = log.add(retrying(1))

    lecture = log.state.lecture(LECTURE)
    assert lecture is not None
    assert lecture.updated_at == env.time
