"""Event payloads of the lecturegen event log (DESIGN §5).

Each payload is a frozen pydantic model with a `schema_version`. Reading goes through
`parse_payload`, which upcasts older schema versions first, so consumers only ever see the
current shape. Adding a version: bump `SCHEMA_VERSION`, write `upcast_vN_vN+1`, register it
in `_UPCASTERS`, and add a golden sample of the old version to the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import ErrorInfo
from shared.media import MediaKind
from shared.status import AssetStatus

EVENT_PREFIX = "lecturegen."

Prompt = Annotated[str, Field(max_length=20_000)]
Params = dict[str, Any]


class Payload(BaseModel):
    """Base of every event and command payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: int = 1

    @classmethod
    def short_type(cls) -> str:
        """The type without prefix and version, e.g. `asset.generated` (the SSE event name)."""
        return short_type(cls.TYPE)


def short_type(ce_type: str) -> str:
    """`lecturegen.asset.generated.v1` → `asset.generated`."""
    name = ce_type.removeprefix(EVENT_PREFIX)
    head, _, tail = name.rpartition(".")
    return head if tail.startswith("v") and tail[1:].isdigit() else name


# --- the plan a lecture is created with -----------------------------------------------


class SegmentPlan(BaseModel):
    """One segment of a lecture: where it sits on the timeline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment_id: str
    title: str | None = None
    start_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)


class AssetPlan(BaseModel):
    """One requested asset, as planned when the lecture is created."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_id: str
    kind: MediaKind
    segment_id: str | None = None
    prompt: Prompt
    model: str
    params: Params = Field(default_factory=dict)
    duration_s: float | None = Field(default=None, gt=0)


class LectureCreated(Payload):
    """A lecture was submitted; each of its assets starts at `prompt_version` 1."""

    TYPE = "lecturegen.lecture.created.v1"

    lecture_id: str
    title: str
    duration_s: float = Field(ge=0)
    segments: tuple[SegmentPlan, ...]
    assets: tuple[AssetPlan, ...]


# --- asset events ---------------------------------------------------------------------


class AssetEvent(Payload):
    """Fields every asset event carries."""

    STATUS: ClassVar[AssetStatus]
    """The status this event moves its asset version to (`shared.status.next_status` says
    whether it may): the one place an event type's status is written down."""

    lecture_id: str
    asset_id: str
    kind: MediaKind
    segment_id: str | None = None
    prompt_version: int = Field(ge=1)
    correlation_id: str | None = None


class AssetRegenerationRequested(AssetEvent):
    """A person asked for a new version of an asset, with its new prompt, model and params."""

    TYPE = "lecturegen.asset.regeneration-requested.v1"
    STATUS = AssetStatus.PENDING

    prompt: Prompt
    model: str
    params: Params = Field(default_factory=dict)
    duration_s: float | None = Field(default=None, gt=0)


class AssetAttemptStarted(AssetEvent):
    """A worker started calling the provider for this asset version."""

    TYPE = "lecturegen.asset.attempt-started.v1"
    STATUS = AssetStatus.PENDING

    attempt: int = Field(ge=1)
    started_at: datetime


class AssetRetrying(AssetEvent):
    """An attempt failed transiently; the next one is scheduled, or (`waiting_for` is
    `provider`) it waits until the model's circuit lets it through, without spending a retry."""

    TYPE = "lecturegen.asset.retrying.v1"
    SCHEMA_VERSION = 2
    STATUS = AssetStatus.RETRYING

    schema_version: int = 2
    attempt: int = Field(ge=1, description="the attempt that failed")
    retried_count: int = Field(ge=0, description="retries made, counting the scheduled one")
    delay_s: float = Field(ge=0)
    next_attempt_at: datetime
    error: ErrorInfo
    model: str | None = Field(default=None, description="the model called (None before v2)")
    waiting_for: Literal["provider"] | None = Field(
        default=None, description="`provider`: held while the model's circuit is open"
    )


class MediaRef(BaseModel):
    """Where generated media is stored and what it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    blob_key: str
    content_type: str
    size_bytes: int = Field(ge=0)
    duration_s: float | None = Field(default=None, ge=0)


class AssetGenerated(AssetEvent):
    """The asset version was generated and stored."""

    TYPE = "lecturegen.asset.generated.v1"
    STATUS = AssetStatus.GENERATED
    SCHEMA_VERSION = 2

    schema_version: int = 2
    media: MediaRef
    prompt: Prompt
    model: str
    provider: str | None = None
    prediction_id: str | None = None
    attempts: int = Field(ge=1)
    retried_count: int = Field(default=0, ge=0)


class AssetFailed(AssetEvent):
    """The asset version failed for good: retries exhausted, or a permanent error."""

    TYPE = "lecturegen.asset.failed.v1"
    STATUS = AssetStatus.FAILED

    error: ErrorInfo
    prompt: Prompt
    model: str
    retried_count: int = Field(ge=0)
    attempts: int = Field(ge=1)


class AssetNeedsPromptUpdate(AssetEvent):
    """The provider rejected the content or input: a person must change prompt or model."""

    TYPE = "lecturegen.asset.needs-prompt-update.v1"
    STATUS = AssetStatus.NEEDS_PROMPT_UPDATE

    error: ErrorInfo
    prompt: Prompt
    model: str
    retried_count: int = Field(ge=0)
    attempts: int = Field(ge=1)


# --- provider health -----------------------------------------------------------------


class HealthWindow(BaseModel):
    """A circuit's counts over the breaker's window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(ge=0)
    failures: int = Field(ge=0)
    rate_limited: int = Field(ge=0)


class ProviderHealthChanged(Payload):
    """The circuit of one provider/model changed state (compacted, keyed `provider/model`)."""

    TYPE = "lecturegen.provider.health-changed.v1"

    provider: str
    model: str
    state: Literal["closed", "open", "half_open"]
    since: datetime
    reason: str
    window: HealthWindow
    unavailable_since: datetime | None = Field(
        default=None, description="when this outage began (None while closed)"
    )


# --- commands -------------------------------------------------------------------------


class GenerateAsset(Payload):
    """Command to a media worker: generate this version of this asset.

    `command_id` is derived from the event and asset it came from, so a re-dispatched event
    gives the same command and the worker can tell the duplicate.
    """

    TYPE = "lecturegen.command.generate-asset.v1"

    command_id: str
    lecture_id: str
    asset_id: str
    kind: MediaKind
    segment_id: str | None = None
    prompt_version: int = Field(ge=1)
    prompt: Prompt
    model: str
    params: Params = Field(default_factory=dict)
    duration_s: float | None = Field(default=None, gt=0)
    requested_at: datetime
    correlation_id: str


EVENT_TYPES: tuple[type[Payload], ...] = (
    LectureCreated,
    AssetRegenerationRequested,
    AssetAttemptStarted,
    AssetRetrying,
    AssetGenerated,
    AssetFailed,
    AssetNeedsPromptUpdate,
)
"""The types of the event log (`lecturegen.events.v1`)."""
ASSET_EVENT_TYPES: tuple[type[AssetEvent], ...] = tuple(
    t for t in EVENT_TYPES if issubclass(t, AssetEvent)
)
PAYLOAD_TYPES: dict[str, type[Payload]] = {t.TYPE: t for t in EVENT_TYPES}
PAYLOAD_TYPES[GenerateAsset.TYPE] = GenerateAsset
PAYLOAD_TYPES[ProviderHealthChanged.TYPE] = ProviderHealthChanged

OutcomeEvent = AssetGenerated | AssetFailed | AssetNeedsPromptUpdate


# --- upcasting ------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def upcast_generated_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 carried the media fields flat (`media_url`, …); v2 groups them in `media`."""
    data = dict(data)
    data["media"] = {
        "blob_key": data.pop("media_url"),
        "content_type": data.pop("content_type"),
        "size_bytes": data.pop("size_bytes"),
        "duration_s": data.pop("duration_s", None),
    }
    data["schema_version"] = 2
    return data


def upcast_retrying_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 adds `model` and `waiting_for`; a v1 event named neither (both read as None)."""
    return {**data, "schema_version": 2}


_UPCASTERS: dict[tuple[str, int], Upcaster] = {
    (AssetGenerated.TYPE, 1): upcast_generated_v1_v2,
    (AssetRetrying.TYPE, 1): upcast_retrying_v1_v2,
}


class PayloadError(ValueError):
    """An event or command could not be decoded or validated; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def upcast(ce_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Bring `data` of `ce_type` up to the current schema version."""
    model = PAYLOAD_TYPES[ce_type]
    version = data.get("schema_version", 1)
    if type(version) is not int or not 1 <= version <= model.SCHEMA_VERSION:
        raise PayloadError(f"unsupported schema_version {version!r} for {ce_type}")
    while version < model.SCHEMA_VERSION:
        data = _UPCASTERS[(ce_type, version)](data)
        version += 1
    return data


def parse_payload(ce_type: str, data: Any) -> Payload:
    """Validate `data` as the current version of `ce_type`; raise `PayloadError` if it is not."""
    model = PAYLOAD_TYPES.get(ce_type)
    if model is None:
        raise PayloadError(f"unknown event type {ce_type!r}")
    if not isinstance(data, dict):
        raise PayloadError(f"{ce_type} payload must be a JSON object")
    try:
        return model.model_validate(upcast(ce_type, data))
    except (KeyError, TypeError) as exc:
        raise PayloadError(f"cannot upcast {ce_type}: {exc!r}") from exc
    except ValidationError as exc:
        raise PayloadError(f"invalid {ce_type}: {_summarise(exc)}") from exc


def _summarise(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
