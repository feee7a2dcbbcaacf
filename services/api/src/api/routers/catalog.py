"""`GET /v1/lectures` (the newest lectures, a page at a time) and `GET /v1/models`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.cursor import BadCursorError, decode_cursor, encode_cursor
from api.deps import Reads, SettingsDep, require_token
from api.problems import FieldError, invalid, responses
from api.schemas import LectureList, LectureSummary, ModelCatalog, ModelChoice
from shared.media import MediaKind
from shared.model_registry import REGISTRY

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(require_token)],
    responses=responses(401, 500),
)

DEFAULT_PAGE = 20
MAX_PAGE = 100


@router.get(
    "/lectures",
    tags=["lectures"],
    response_model=LectureList,
    responses=responses(422, 503),
    summary="The lectures, newest first, with their asset counts per status",
)
async def list_lectures(
    reads: Reads,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="lectures per page")] = (
        DEFAULT_PAGE
    ),
    cursor: Annotated[
        str | None,
        Query(max_length=400, description="`next_cursor` of the previous page"),
    ] = None,
) -> LectureList:
    try:
        before = None if cursor is None else decode_cursor(cursor)
    except BadCursorError:
        raise invalid(
            [FieldError(field="query.cursor", message="not a cursor this API handed out")]
        ) from None
    rows = await reads.recent_lectures(limit + 1, before)
    page, more = rows[:limit], len(rows) > limit
    counts = await reads.counts_of([row.lecture_id for row in page])
    last = page[-1] if page else None
    return LectureList(
        lectures=[
            LectureSummary(
                lecture_id=row.lecture_id,
                title=row.title,
                duration_s=row.duration_s,
                created_at=row.created_at,
                counts=counts[row.lecture_id],
            )
            for row in page
        ],
        next_cursor=encode_cursor(last.created_at, last.lecture_id) if more and last else None,
    )


@router.get(
    "/models",
    tags=["models"],
    response_model=ModelCatalog,
    summary="The models the API knows per medium (its model registry), default first",
)
async def list_models(settings: SettingsDep) -> ModelCatalog:
    choices = {}
    for kind in MediaKind:
        default = settings.models.for_kind(kind)
        known = (row.ref for row in REGISTRY.values() if row.kind is kind)
        models = [default, *(ref for ref in known if ref != default)]
        choices[kind] = ModelChoice(default=default, models=models)
    return ModelCatalog(media=choices)
