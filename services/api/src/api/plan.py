"""Turn a lecture request into its `lecture.created` event: pure, no I/O.

Segments get ids (when not given) and cumulative start times; every requested image,
narration and video becomes one asset of its segment, and music one asset spanning the
lecture. Ids come from `new_id`, so tests can make them predictable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from api.model_inputs import lecture_input_errors, voice_param
from api.problems import FieldError, invalid
from api.schemas import CreateLectureRequest, SegmentRequest
from api.settings import DefaultModels
from shared.events import AssetPlan, LectureCreated, SegmentPlan
from shared.media import MediaKind


def plan_lecture(
    request: CreateLectureRequest, models: DefaultModels, new_id: Callable[[], str]
) -> LectureCreated:
    """The event that creates the lecture `request` describes; 422 if segment ids repeat or
    an asset breaks its model's schema (the model registry)."""
    segment_ids = _segment_ids(request.segments)
    model_errors = lecture_input_errors(request, models)
    if model_errors:
        raise invalid(model_errors)
    lecture_id = new_id()
    segments: list[SegmentPlan] = []
    assets: list[AssetPlan] = []
    start_s = 0.0
    for segment_id, segment in zip(segment_ids, request.segments, strict=True):
        segments.append(
            SegmentPlan(
                segment_id=segment_id,
                title=segment.title,
                start_s=start_s,
                duration_s=segment.duration_s,
            )
        )
        assets.extend(_segment_assets(segment_id, segment, models, new_id))
        start_s += segment.duration_s
    if request.music is not None:
        assets.append(
            AssetPlan(
                asset_id=new_id(),
                kind=MediaKind.MUSIC,
                prompt=request.music.prompt,
                model=request.music.model or models.music,
                duration_s=request.music.duration_s or start_s,
            )
        )
    return LectureCreated(
        lecture_id=lecture_id,
        title=request.title,
        duration_s=start_s,
        segments=tuple(segments),
        assets=tuple(assets),
    )


def _segment_ids(segments: list[SegmentRequest]) -> list[str]:
    ids = [seg.segment_id or f"s{position}" for position, seg in enumerate(segments, 1)]
    first_seen: dict[str, int] = {}
    errors: list[FieldError] = []
    for index, segment_id in enumerate(ids):
        if segment_id in first_seen:
            errors.append(
                FieldError(
                    field=f"segments.{index}.segment_id",
                    message=f"segment id {segment_id!r} is already used by segment "
                    f"{first_seen[segment_id]}",
                )
            )
        else:
            first_seen[segment_id] = index
    if errors:
        raise invalid(errors)
    return ids


def _segment_assets(
    segment_id: str,
    segment: SegmentRequest,
    models: DefaultModels,
    new_id: Callable[[], str],
) -> Iterator[AssetPlan]:
    if segment.image is not None:
        yield AssetPlan(
            asset_id=new_id(),
            kind=MediaKind.IMAGE,
            segment_id=segment_id,
            prompt=segment.image.prompt,
            model=segment.image.model or models.image,
            params=segment.image.params,
        )
    if segment.narration is not None:
        narration = segment.narration
        model = narration.model or models.narration
        yield AssetPlan(
            asset_id=new_id(),
            kind=MediaKind.NARRATION,
            segment_id=segment_id,
            prompt=narration.text,
            model=model,
            params={voice_param(model): narration.voice} if narration.voice else {},
        )
    if segment.video is not None:
        yield AssetPlan(
            asset_id=new_id(),
            kind=MediaKind.VIDEO,
            segment_id=segment_id,
            prompt=segment.video.prompt,
            model=segment.video.model or models.video,
            params=segment.video.params,
            duration_s=segment.duration_s,
        )
