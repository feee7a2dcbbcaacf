"""Request and response bodies of the HTTP API (DESIGN §7), separate from the event models."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.storable import refusal
from shared.errors import ErrorInfo
from shared.media import MediaKind
from shared.status import AssetStatus

MAX_PROMPT_CHARS = 4_000
MAX_SEGMENTS = 500
MAX_DURATION_S = 600.0
MAX_PARAMS_BYTES = 16_384
"""Provider parameters are settings (a seed, an aspect ratio), not payloads: pass large inputs
(an init image) as URLs."""

PromptText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)]
ModelRef = Annotated[
    str,
    StringConstraints(
        max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(:[A-Za-z0-9]+)?$"
    ),
    Field(description="`owner/name` or `owner/name:version`", examples=["minimax/video-01"]),
]
Duration = Annotated[float, Field(gt=0, le=MAX_DURATION_S, description="seconds")]


def _params_size(params: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(params, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size > MAX_PARAMS_BYTES:
        raise ValueError(f"is {size} bytes as JSON; at most {MAX_PARAMS_BYTES} are accepted")
    return params


Params = Annotated[
    dict[str, Any],
    AfterValidator(_params_size),
    Field(description=f"provider input parameters (at most {MAX_PARAMS_BYTES} bytes as JSON)"),
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        # Nested requests check their own fields; this sees strings and params.
        if not isinstance(value, BaseModel) and (reason := refusal(value)):
            raise ValueError(reason)
        return value


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
    waiting_for: Literal["provider"] | None = Field(
        None, description="`provider`: retrying, held while its model's circuit is open"
    )


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
    waiting_for: Literal["provider"] | None = Field(
        None, description="`provider`: retrying, held while its model's circuit is open"
    )


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


class ProviderState(_Response):
    """One provider/model's circuit (decision 0019)."""

    provider: str
    model: str
    state: Literal["closed", "open", "half_open"]
    since: datetime | None = Field(description="when it entered `state`")
    unavailable_since: datetime | None = Field(
        None, description="when the current outage began (None while closed)"
    )
    error_rate: float = Field(
        ge=0, le=1, description="failed share of the recent attempts, as of the last change"
    )
    reason: str
    assets_waiting: int = Field(ge=0, description="assets held until the circuit lets them")


class ProviderList(_Response):
    providers: list[ProviderState]
