import json

from shared.errors import ErrorCode, ErrorInfo
from shared.media import MediaKind
from shared.status import AssetStatus
from shared.testing.read_model import asset_row
from shared.timeline import (
    NO_MEDIA,
    TRACK_ORDER,
    Clip,
    Timeline,
    TimelineAsset,
    TimelineSegment,
    assemble_timeline,
)

SEGMENTS = (
    TimelineSegment("s1", 0.0, 10.0),
    TimelineSegment("s2", 10.0, 5.0),
)
SENSITIVE = ErrorInfo(
    code=ErrorCode.SENSITIVE_CONTENT,
    message="The input or output was flagged as sensitive. (E005)",
    provider="replicate",
    provider_code="E005",
    retryable=False,
    user_action_required=True,
)
THROTTLED = ErrorInfo(
    code=ErrorCode.RATE_LIMITED,
    message="Request was throttled.",
    retryable=True,
    user_action_required=False,
    retry_after_s=30,
)


def asset(
    asset_id: str,
    kind: MediaKind,
    segment_id: str | None,
    status: AssetStatus,
    *,
    error: ErrorInfo | None = None,
    media_key: str | None = None,
) -> TimelineAsset:
    return TimelineAsset(asset_id, kind, segment_id, status, error, media_key)


def clips_of(timeline: Timeline, track: str) -> tuple[Clip, ...]:
    return next(t.clips for t in timeline.tracks if t.kind == track)


def test_a_lecture_with_no_successful_asset_gets_one_placeholder_clip_per_asset() -> None:
    assets = [
        asset("i1", MediaKind.IMAGE, "s1", AssetStatus.FAILED, error=SENSITIVE),
        asset("i2", MediaKind.IMAGE, "s2", AssetStatus.PENDING),
        asset("n1", MediaKind.NARRATION, "s1", AssetStatus.RETRYING, error=THROTTLED),
        asset("n2", MediaKind.NARRATION, "s2", AssetStatus.NEEDS_PROMPT_UPDATE, error=SENSITIVE),
        asset("m", MediaKind.MUSIC, None, AssetStatus.FAILED, error=THROTTLED),
    ]

    timeline = assemble_timeline("lec", 15.0, SEGMENTS, assets)

    all_clips = [c for t in timeline.tracks for c in t.clips]
    assert sorted(c.asset_id for c in all_clips) == ["i1", "i2", "m", "n1", "n2"]
    assert all(c.media_url is None and c.missing_reason is not None for c in all_clips)
    assert [(c.start_s, c.duration_s) for c in clips_of(timeline, "visual")] == [
        (0.0, 10.0),
        (10.0, 5.0),
    ]


def test_every_track_is_present_in_a_fixed_order_even_when_empty() -> None:
    timeline = assemble_timeline("lec", 15.0, SEGMENTS, [])

    assert tuple(t.kind for t in timeline.tracks) == TRACK_ORDER
    assert all(t.clips == () for t in timeline.tracks)


def test_a_clip_mirrors_its_assets_status_and_error_and_says_why_media_is_missing() -> None:
    timeline = assemble_timeline(
        "lec",
        15.0,
        SEGMENTS,
        [
            asset("i1", MediaKind.IMAGE, "s1", AssetStatus.FAILED, error=SENSITIVE),
            asset("i2", MediaKind.IMAGE, "s2", AssetStatus.RETRYING, error=THROTTLED),
        ],
    )

    failed, retrying = clips_of(timeline, "visual")
    assert (failed.status, failed.error, failed.missing_reason) == (
        AssetStatus.FAILED,
        SENSITIVE,
        "failed",
    )
    assert (retrying.status, retrying.error, retrying.missing_reason) == (
        AssetStatus.RETRYING,
        THROTTLED,
        "retrying",
    )


def test_a_generated_asset_plays_its_media_and_has_no_missing_reason() -> None:
    timeline = assemble_timeline(
        "lec",
        15.0,
        SEGMENTS,
        [asset("v", MediaKind.VIDEO, "s2", AssetStatus.GENERATED, media_key="ab/cd.mp4")],
        media_url=lambda key: f"https://cdn.example/{key}",
    )

    (clip,) = clips_of(timeline, "video")
    assert clip.media_url == "https://cdn.example/ab/cd.mp4"
    assert clip.missing_reason is None
    assert (clip.start_s, clip.duration_s) == (10.0, 5.0)


def test_a_generated_asset_without_a_media_reference_is_a_placeholder() -> None:
    timeline = assemble_timeline(
        "lec", 15.0, SEGMENTS, [asset("i", MediaKind.IMAGE, "s1", AssetStatus.GENERATED)]
    )

    (clip,) = clips_of(timeline, "visual")
    assert (clip.media_url, clip.missing_reason) == (None, NO_MEDIA)


def test_a_regenerated_asset_keeps_its_one_clip_slot_and_shows_the_new_version_pending() -> None:
    before = assemble_timeline(
        "lec",
        15.0,
        SEGMENTS,
        [asset("n1", MediaKind.NARRATION, "s1", AssetStatus.NEEDS_PROMPT_UPDATE, error=SENSITIVE)],
    )
    after = assemble_timeline(
        "lec", 15.0, SEGMENTS, [asset("n1", MediaKind.NARRATION, "s1", AssetStatus.PENDING)]
    )

    (old,) = clips_of(before, "narration")
    (new,) = clips_of(after, "narration")
    assert old.clip_id == new.clip_id
    assert (new.status, new.error, new.missing_reason) == (AssetStatus.PENDING, None, "pending")


def test_music_spans_the_whole_lecture() -> None:
    timeline = assemble_timeline(
        "lec",
        12.0,
        SEGMENTS,
        [asset("m", MediaKind.MUSIC, None, AssetStatus.GENERATED, media_key="m.wav")],
    )

    (clip,) = clips_of(timeline, "music")
    assert (clip.start_s, clip.duration_s) == (0.0, 15.0)
    assert timeline.duration_s == 15.0


def test_an_asset_of_an_unknown_segment_still_gets_a_slot_spanning_the_lecture() -> None:
    timeline = assemble_timeline(
        "lec", 15.0, SEGMENTS, [asset("i", MediaKind.IMAGE, "gone", AssetStatus.PENDING)]
    )

    (clip,) = clips_of(timeline, "visual")
    assert (clip.start_s, clip.duration_s) == (0.0, 15.0)


def test_clips_are_ordered_by_start_time_within_a_track() -> None:
    timeline = assemble_timeline(
        "lec",
        15.0,
        SEGMENTS,
        [
            asset("b", MediaKind.IMAGE, "s2", AssetStatus.PENDING),
            asset("a", MediaKind.IMAGE, "s1", AssetStatus.PENDING),
        ],
    )

    assert [c.segment_id for c in clips_of(timeline, "visual")] == ["s1", "s2"]


def test_assets_read_from_view_rows_treat_a_missing_status_as_generated() -> None:
    assert TimelineAsset.from_row(asset_row(status=None)).status is AssetStatus.GENERATED


def test_an_error_in_a_view_row_reads_back_as_the_same_error_info() -> None:
    row = asset_row(status="failed", error=SENSITIVE.model_dump(mode="json"), media_blob_key=None)

    asset = TimelineAsset.from_row(row)

    assert asset.error == SENSITIVE
    assert asset.media_key is None


def test_the_json_shape_matches_the_api_contract() -> None:
    timeline = assemble_timeline(
        "lec",
        15.0,
        SEGMENTS,
        [asset("i1", MediaKind.IMAGE, "s1", AssetStatus.FAILED, error=SENSITIVE)],
    )

    body = timeline.as_json()

    assert set(body) == {"lecture_id", "duration_s", "tracks"}
    clip = body["tracks"][0]["clips"][0]
    assert set(clip) == {
        "clip_id",
        "asset_id",
        "segment_id",
        "start_s",
        "duration_s",
        "status",
        "error",
        "missing_reason",
        "media_url",
        "waiting_for",
    }

    assert clip["status"] == "failed"
    assert clip["error"]["code"] == "SENSITIVE_CONTENT"
    json.dumps(body)


def test_a_clip_says_its_asset_waits_for_the_provider_as_its_view_row_does() -> None:
    held = TimelineAsset.from_row(asset_row(status="retrying", waiting_for="provider"))

    timeline = assemble_timeline("lec", 15.0, SEGMENTS, [held])

    clip = next(c for track in timeline.tracks for c in track.clips)
    assert (clip.status, clip.as_json()["waiting_for"]) == (AssetStatus.RETRYING, "provider")
