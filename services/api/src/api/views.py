"""Rows of the read model → the API's response bodies. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from api.schemas import (
    AssetView,
    AttemptView,
    ClipView,
    LectureView,
    SegmentView,
    TimelineView,
    TrackView,
)
from shared.errors import ErrorInfo
from shared.media import MediaKind
from shared.read_model.rows import AssetRow, AttemptRow, Json, LectureRow, SegmentRow
from shared.status import AssetStatus, read_status
from shared.timeline import (
    TimelineAsset,
    TimelineSegment,
    assemble_timeline,
    default_media_url,
)


def asset_view(row: AssetRow, attempts: Sequence[AttemptRow] = ()) -> AssetView:
    key = row.media_blob_key
    return AssetView(
        asset_id=row.asset_id,
        lecture_id=row.lecture_id,
        segment_id=row.segment_id,
        kind=MediaKind(row.kind),
        status=read_status(row.status),
        prompt=row.prompt,
        model=row.model,
        params=row.params or {},
        prompt_version=row.prompt_version,
        media_url=default_media_url(key) if key else None,
        content_type=row.media_content_type,
        duration_s=row.duration_s,
        retried_count=row.retried_count,
        error=_error(row.error),
        attempts=[attempt_view(attempt) for attempt in attempts],
        waiting_for=_waiting_for(row.waiting_for),
    )


def attempt_view(row: AttemptRow) -> AttemptView:
    return AttemptView(
        prompt_version=row.prompt_version,
        attempt=row.attempt,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
        error=_error(row.error),
        prediction_id=row.prediction_id,
        superseded=row.superseded,
    )


def lecture_view(
    lecture: LectureRow,
    segments: Sequence[SegmentRow],
    assets: Sequence[AssetRow],
    counts: Mapping[AssetStatus, int],
) -> LectureView:
    return LectureView(
        lecture_id=lecture.lecture_id,
        title=lecture.title,
        duration_s=lecture.duration_s,
        created_at=lecture.created_at,
        segments=[
            SegmentView(
                segment_id=s.segment_id, title=s.title, start_s=s.start_s, duration_s=s.duration_s
            )
            for s in segments
        ],
        assets=[asset_view(asset) for asset in assets],
        counts=dict(counts),
    )


def timeline_view(
    lecture: LectureRow, segments: Sequence[SegmentRow], assets: Sequence[AssetRow]
) -> TimelineView:
    timeline = assemble_timeline(
        lecture.lecture_id,
        lecture.duration_s,
        [TimelineSegment.from_row(s) for s in segments],
        [TimelineAsset.from_row(a) for a in assets],
    )
    return TimelineView(
        lecture_id=timeline.lecture_id,
        duration_s=timeline.duration_s,
        tracks=[
            TrackView(
                kind=track.kind,
                clips=[ClipView.model_validate(clip.as_json()) for clip in track.clips],
            )
            for track in timeline.tracks
        ],
    )


def _waiting_for(value: str | None) -> Literal["provider"] | None:
    return "provider" if value == "provider" else None


def _error(value: Json | None) -> ErrorInfo | None:
    return None if value is None else ErrorInfo.model_validate(value)
