"""Request and response bodies of the HTTP API (DESIGN §7), separate from the event models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.errors import ErrorInfo
from shared.media import MediaKind
from shared.status import AssetStatus

MAX_PROMPT_CHARS = 4_000
MAX_SEGMENTS = 500
MAX_DURATION_S = 600.0

PromptText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)]
ModelRef = Annotated[
    str,
    StringConstraints(
        max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(:[A-Za-z0-9]+)?$"
    ),
    Field(description="`owner/name` or `owner/name:version`", examples=["minimax/video-01"]),
]
Duration = Annotated[float, Field(gt=0, le=MAX_DURATION_S, description="seconds")]
Params = Annotated[dict[str, Any], Field(description="provider input parameters")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- commands --------------------------------------------------------------------------


class ImageRequest(_Request):
    prompt: PromptText
    model: ModelRef | None = None
    params: Params = Field(default_factory=dict)


class NarrationRequest(_Request):
    text: PromptText
    voice: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    model: ModelRef | None = None


class VideoRequest(_Request):
    prompt: PromptText
    model: ModelRef | None = None
    params: Params = Field(default_factory=dict)


class MusicRequest(_Request):
    prompt: PromptText
    model: ModelRef | None = None
    duration_s: Duration | None = Field(None, description="default: the lecture's length")


class SegmentRequest(_Request):
    segment_id: Identifier | None = Field(None, description="default: `s<position>`, from 1")
    title: Title | None = None
    duration_s: Duration
    image: ImageRequest | None = None
    narration: NarrationRequest | None = None
    video: VideoRequest | None = None


class CreateLectureRequest(_Request):
    title: Title
    segments: Annotated[list[SegmentRequest], Field(min_length=1, max_length=MAX_SEGMENTS)]
    music: MusicRequest | None = None


class RegenerateRequest(_Request):
    """What to change in the new version; anything left out keeps its current value."""

    prompt: PromptText | None = None
    model: ModelRef | None = None
    params: Params | None = None


class AssetRef(_Response):
    asset_id: str
    kind: MediaKind
    segment_id: str | None = None


class LectureAccepted(_Response):
    lecture_id: str
    event_id: str = Field(description="the `lecture.created` event id, for `?wait_for=`")
    assets: list[AssetRef]


class RegenerationAccepted(_Response):
    asset_id: str
    prompt_version: int
    event_id: str = Field(description="the regeneration event id, for `?wait_for=`")


# --- reads -----------------------------------------------------------------------------


class AttemptView(_Response):
    """One provider attempt of one asset version, superseded versions included."""

    prompt_version: int
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None = Field(description="null while running; else the attempt's outcome")
    error: ErrorInfo | None
    prediction_id: str | None
    superseded: bool


class AssetView(_Response):
    asset_id: str
    lecture_id: str
    segment_id: str | None
    kind: MediaKind
    status: AssetStatus
    prompt: str
    model: str
    params: dict[str, Any]
    prompt_version: int
    media_url: str | None
    content_type: str | None = None
    duration_s: float | None
    retried_count: int
    error: ErrorInfo | None
    attempts: list[AttemptView] = Field(default_factory=list)


class SegmentView(_Response):
    segment_id: str
    title: str | None
    start_s: float
    duration_s: float


class LectureView(_Response):
    lecture_id: str
    title: str
    duration_s: float
    created_at: datetime | None = None
    segments: list[SegmentView]
    assets: list[AssetView]
    counts: dict[AssetStatus, int] = Field(description="number of assets per status")


TrackKind = Literal["visual", "video", "narration", "music"]


class ClipView(_Response):
    clip_id: str
    asset_id: str
    segment_id: str | None
    start_s: float
    duration_s: float
    status: AssetStatus
    error: ErrorInfo | None
    missing_reason: str | None
    media_url: str | None


class TrackView(_Response):
    kind: TrackKind
    clips: list[ClipView]


class TimelineView(_Response):
    lecture_id: str
    duration_s: float
    tracks: list[TrackView]


class AssetList(_Response):
    lecture_id: str
    assets: list[AssetView]


class LectureSummary(_Response):
    lecture_id: str
    title: str
    duration_s: float
    created_at: datetime | None
    counts: dict[AssetStatus, int] = Field(description="number of assets per status")


class LectureList(_Response):
    lectures: list[LectureSummary] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="pass as `?cursor=` for the next page; null on the last page"
    )


class ModelChoice(_Response):
    default: str = Field(description="used when a request names no model")
    models: list[str] = Field(description="the models the API offers for this medium")


class ModelCatalog(_Response):
    media: dict[MediaKind, ModelChoice]
