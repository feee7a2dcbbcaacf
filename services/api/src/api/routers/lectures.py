"""`/v1/lectures`: create a lecture, read it, its timeline, its assets, and its live events."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.arrival import lecture_appears
from api.deps import (
    BroadcasterDep,
    Events,
    Metrics,
    Reads,
    SettingsDep,
    read_your_writes,
    require_stream_token,
    require_token,
)
from api.event_log import EventLogUnavailableError, EventTooLargeError
from api.live import lecture_events
from api.logs import request_id_var
from api.outages import retry_later
from api.plan import plan_lecture
from api.problems import FieldError, invalid, not_found, responses, too_large
from api.schemas import (
    AssetList,
    AssetRef,
    CreateLectureRequest,
    LectureAccepted,
    LectureView,
    TimelineView,
)
from api.views import asset_view, lecture_view, timeline_view
from shared.ids import new_id
from shared.status import AssetStatus

router = APIRouter(
    prefix="/v1/lectures",
    tags=["lectures"],
    dependencies=[Depends(require_token)],
    responses=responses(401, 500),
)
stream_router = APIRouter(
    prefix="/v1/lectures",
    tags=["lectures"],
    dependencies=[Depends(require_stream_token)],
    responses=responses(401, 500),
)

_SEQ = re.compile(r"^[0-9]{1,18}$")
LectureId = Annotated[str, Path(max_length=128, description="the lecture's id")]
READ_RESPONSES = responses(404, 422, 503)


@router.post(
    "",
    status_code=202,
    response_model=LectureAccepted,
    responses=responses(400, 413, 422, 503),
    summary="Submit a lecture: appends one `lecture.created` event",
)
async def create_lecture(
    body: CreateLectureRequest, events: Events, settings: SettingsDep, metrics: Metrics
) -> LectureAccepted:
    planned = plan_lecture(body, settings.models, new_id)
    envelope = events.envelop(planned, correlation_id=request_id_var.get())
    try:
        await events.append(envelope)
    except EventTooLargeError as exc:
        raise too_large("the lecture", exc.size, exc.limit) from exc
    except EventLogUnavailableError as exc:
        raise retry_later("the event log did not accept the lecture; retry") from exc
    metrics.events_appended.labels(planned.short_type()).inc()
    return LectureAccepted(
        lecture_id=planned.lecture_id,
        event_id=envelope.id,
        assets=[
            AssetRef(asset_id=a.asset_id, kind=a.kind, segment_id=a.segment_id)
            for a in planned.assets
        ],
    )


@router.get(
    "/{lecture_id}",
    response_model=LectureView,
    responses=READ_RESPONSES,
    dependencies=[Depends(read_your_writes)],
)
async def get_lecture(lecture_id: LectureId, reads: Reads) -> LectureView:
    lecture = await reads.lecture(lecture_id)
    if lecture is None:
        raise not_found("lecture", lecture_id)
    segments = await reads.segments(lecture_id)
    assets = await reads.assets(lecture_id)
    return lecture_view(lecture, segments, assets, await reads.counts(lecture_id))


@router.get(
    "/{lecture_id}/timeline",
    response_model=TimelineView,
    responses=READ_RESPONSES,
    dependencies=[Depends(read_your_writes)],
)
async def get_timeline(lecture_id: LectureId, reads: Reads) -> TimelineView:
    lecture = await reads.lecture(lecture_id)
    if lecture is None:
        raise not_found("lecture", lecture_id)
    segments = await reads.segments(lecture_id)
    assets = await reads.assets(lecture_id)
    return timeline_view(lecture, segments, assets)


@router.get(
    "/{lecture_id}/assets",
    response_model=AssetList,
    responses=READ_RESPONSES,
    dependencies=[Depends(read_your_writes)],
)
async def list_assets(
    lecture_id: LectureId,
    reads: Reads,
    status: Annotated[AssetStatus | None, Query(description="only assets in this status")] = None,
) -> AssetList:
    if await reads.lecture(lecture_id) is None:
        raise not_found("lecture", lecture_id)
    rows = await reads.assets(lecture_id, status)
    return AssetList(lecture_id=lecture_id, assets=[asset_view(row) for row in rows])


async def _resume_point(
    lecture_id: LectureId,
    reads: Reads,
    settings: SettingsDep,
    wait_for: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9-]{1,64}$",
            description="the `event_id` of the lecture's 202: a lecture not projected yet "
            "is waited for (up to `LECTUREGEN_API_WAIT_FOR_TIMEOUT_S`) instead of a 404",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="resume after this sequence number (sent by EventSource on reconnect)",
        ),
    ] = None,
    resume_after: Annotated[
        str | None,
        Query(
            alias="last_event_id",
            max_length=20,
            description="like `Last-Event-ID`, for a client that opens a new EventSource "
            "(the header wins when both are sent)",
        ),
    ] = None,
) -> int:
    """The sequence number to stream after; checked before the stream starts, so a bad
    header or an unknown lecture still gets a proper error status. A lecture that is not in
    the views yet is waited for (bounded): a client may subscribe right after its 202."""
    after = _sequence_number(last_event_id if last_event_id else resume_after)
    timeout_s = settings.wait_for_timeout_s
    if not await lecture_appears(reads, lecture_id, wait_for=wait_for, timeout_s=timeout_s):
        raise not_found("lecture", lecture_id)
    return after


ResumeAfter = Annotated[int, Depends(_resume_point)]


@stream_router.get(
    "/{lecture_id}/events",
    response_class=EventSourceResponse,
    responses=responses(404, 422, 503),
    summary="Live asset events of the lecture (Server-Sent Events)",
)
async def stream_events(
    lecture_id: LectureId,
    after: ResumeAfter,
    reads: Reads,
    broadcaster: BroadcasterDep,
    settings: SettingsDep,
    metrics: Metrics,
) -> AsyncIterator[ServerSentEvent]:
    metrics.sse_clients.inc()
    try:
        async for message in lecture_events(
            lecture_id,
            after,
            reads=reads,
            broadcaster=broadcaster,
            heartbeat_s=settings.heartbeat_s,
        ):
            yield message
    finally:
        metrics.sse_clients.dec()


def _sequence_number(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return 0
    if not _SEQ.match(raw.strip()):
        raise invalid(
            [FieldError(field="header.Last-Event-ID", message="must be a sequence number")]
        )
    return int(raw.strip())
