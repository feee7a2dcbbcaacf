"""Reducers: (current view state, event) → the rows that change. Pure: no SQL, no clock.

Status rules come from `shared.status.next_status`: a newer `prompt_version` wins and starts
fresh, an older one never overwrites the current view (it lands in the attempt history only),
and a terminal status stays terminal. The SQL layer (`store`) writes what these return.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from shared.envelope import Envelope
from shared.events import (
    ASSET_EVENT_TYPES,
    AssetAttemptStarted,
    AssetEvent,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetPlan,
    AssetRegenerationRequested,
    AssetRetrying,
    LectureCreated,
    Payload,
)
from shared.media import MediaKind
from shared.read_model.rows import (
    NEW_VERSION,
    AssetRow,
    AttemptKey,
    AttemptRow,
    FeedRow,
    Json,
    LectureRow,
    SegmentRow,
    replaced,
)
from shared.status import AssetStatus, VersionedStatus, next_status, read_status


class ViewState(Protocol):
    """What a reducer may read: the current rows the event could touch."""

    def lecture(self, lecture_id: str) -> LectureRow | None: ...
    def asset(self, asset_id: str) -> AssetRow | None: ...
    def attempt(self, key: AttemptKey) -> AttemptRow | None: ...
    def last_seq(self, lecture_id: str) -> int: ...
    def seen(self, event_id: str) -> bool: ...


class Changes(NamedTuple):
    """The rows one event writes (each replaces the stored row with the same key)."""

    lecture: LectureRow | None = None
    segments: tuple[SegmentRow, ...] = ()
    assets: tuple[AssetRow, ...] = ()
    attempt: AttemptRow | None = None
    feed: FeedRow | None = None
    applied: bool = False
    """Whether the event changed the current view of a lecture or asset."""


NO_CHANGES = Changes()

Reducer = Callable[[ViewState, Envelope], Changes]


def reduce(state: ViewState, envelope: Envelope) -> Changes:
    """The changes `envelope` makes to the views; none for a type the views do not use."""
    reducer = REDUCERS.get(type(envelope.payload))
    return NO_CHANGES if reducer is None else reducer(state, envelope)


# --- lecture.created ------------------------------------------------------------------


def lecture_created(state: ViewState, envelope: Envelope) -> Changes:
    """A new lecture: its segments, and each planned asset at `prompt_version` 1, `pending`."""
    event = envelope.payload
    assert isinstance(event, LectureCreated)
    if state.lecture(event.lecture_id) is not None:
        return NO_CHANGES  # a second `lecture.created` for the same lecture changes nothing
    lecture = LectureRow(
        lecture_id=event.lecture_id,
        title=event.title,
        duration_s=event.duration_s,
        created_event_id=envelope.id,
        created_at=envelope.time,
        updated_at=envelope.time,
    )
    segments = tuple(
        SegmentRow(event.lecture_id, s.segment_id, i, s.title, s.start_s, s.duration_s)
        for i, s in enumerate(event.segments)
    )
    assets = tuple(
        _planned_asset(event.lecture_id, plan, i, envelope)
        for i, plan in enumerate(event.assets)
        if state.asset(plan.asset_id) is None
    )
    return Changes(lecture=lecture, segments=segments, assets=assets, applied=True)


def _planned_asset(lecture_id: str, plan: AssetPlan, position: int, env: Envelope) -> AssetRow:
    return AssetRow(
        asset_id=plan.asset_id,
        lecture_id=lecture_id,
        segment_id=plan.segment_id,
        kind=_KIND[plan.kind],
        position=position,
        status=_PENDING,
        prompt=plan.prompt,
        model=plan.model,
        params=dict(plan.params),
        prompt_version=1,
        requested_duration_s=plan.duration_s,
        created_at=env.time,
        updated_at=env.time,
        last_event_id=env.id,
        **NEW_VERSION,
    )


# --- asset events ---------------------------------------------------------------------


def asset_event(state: ViewState, envelope: Envelope) -> Changes:
    """Any asset event: the asset view (if the status rules allow), its attempt, its feed row."""
    event = envelope.payload
    assert isinstance(event, AssetEvent)
    if state.seen(envelope.id):
        return NO_CHANGES  # the same event written to the log twice
    current = state.asset(event.asset_id)
    moved = next_status(_versioned(current), event.prompt_version, _STATUS[type(event)])
    # The error object of the event, made once for the asset row and the attempt row.
    error = _error(event) if isinstance(event, _WITH_ERROR) else None
    asset = None if moved is None else _moved(current, event, envelope, moved.status, error)
    superseded = current is not None and current.prompt_version > event.prompt_version
    view = asset or current
    lecture = state.lecture(event.lecture_id)
    touched = None if asset is None or lecture is None else _touch(lecture, envelope)
    return Changes(
        lecture=touched,
        assets=() if asset is None else (asset,),
        attempt=_attempt(state, event, envelope, superseded, error),
        feed=_feed(state, event, envelope, asset is not None, view),
        applied=asset is not None,
    )


_STATUS: dict[type[Payload], AssetStatus] = {t: t.STATUS for t in ASSET_EVENT_TYPES}
"""Each asset event type's status (`AssetEvent.STATUS`), looked up once per type."""


_WITH_ERROR = (AssetRetrying, AssetFailed, AssetNeedsPromptUpdate)

# Lookups instead of enum calls and `.value` (a property): a replay makes millions of them.
_READ: dict[str | None, AssetStatus] = {
    None: read_status(None),
    **{status.value: status for status in AssetStatus},
}
_VALUE: dict[AssetStatus, str] = {status: status.value for status in AssetStatus}
_STATUS_VALUE: dict[type[Payload], str] = {t: status.value for t, status in _STATUS.items()}
_KIND: dict[MediaKind, str] = {kind: kind.value for kind in MediaKind}
_PENDING = AssetStatus.PENDING.value


def _read_status(raw: str | None) -> AssetStatus:
    """`read_status(raw)` (which still raises for a value that is no status)."""
    status = _READ.get(raw)
    return read_status(raw) if status is None else status


def _versioned(row: AssetRow | None) -> VersionedStatus | None:
    return None if row is None else VersionedStatus(row.prompt_version, _read_status(row.status))


def _moved(
    current: AssetRow | None,
    event: AssetEvent,
    env: Envelope,
    status: AssetStatus,
    error: Json | None,
) -> AssetRow:
    same_version = current is not None and current.prompt_version == event.prompt_version
    base = current if same_version and current is not None else _fresh(current, event, env)
    # One replacement per event: rows are wide and replay speed matters.
    changes = _UPDATE[type(event)](base, event, error)
    changes.setdefault("waiting_for", None)  # only a held `asset.retrying` says it waits
    changes["status"] = _VALUE[status]
    changes["prompt_version"] = event.prompt_version
    changes["updated_at"] = env.time
    changes["last_event_id"] = env.id
    return replaced(base, changes)


def _fresh(current: AssetRow | None, event: AssetEvent, env: Envelope) -> AssetRow:
    """A new version of the asset: nothing generated, no error, no attempts yet."""
    if current is not None:
        return replaced(current, NEW_VERSION)
    # an asset event for an asset no `lecture.created` announced
    return AssetRow(
        asset_id=event.asset_id,
        lecture_id=event.lecture_id,
        segment_id=event.segment_id,
        kind=_KIND[event.kind],
        position=0,
        status=None,
        prompt=str(getattr(event, "prompt", "")),
        model=str(getattr(event, "model", "")),
        params={},
        prompt_version=event.prompt_version,
        requested_duration_s=None,
        created_at=env.time,
        updated_at=env.time,
        last_event_id=env.id,
        **NEW_VERSION,
    )


AssetUpdate = dict[str, Any]
"""Column values an event sets on the asset row of its version."""


def _regeneration_requested(row: AssetRow, event: Any, error: Json | None) -> AssetUpdate:
    assert isinstance(event, AssetRegenerationRequested)
    duration = row.requested_duration_s if event.duration_s is None else event.duration_s
    return {
        "prompt": event.prompt,
        "model": event.model,
        "params": dict(event.params),
        "requested_duration_s": duration,
        "error": None,
    }


def _attempt_started(row: AssetRow, event: Any, error: Json | None) -> AssetUpdate:
    assert isinstance(event, AssetAttemptStarted)
    return {"attempts": max(row.attempts, event.attempt)}


def _retrying(row: AssetRow, event: Any, error: Json | None) -> AssetUpdate:
    assert isinstance(event, AssetRetrying)
    return {
        "error": error,
        "retried_count": event.retried_count,
        "attempts": max(row.attempts, event.attempt),
        "waiting_for": event.waiting_for,
    }


def _generated(row: AssetRow, event: Any, error: Json | None) -> AssetUpdate:
    assert isinstance(event, AssetGenerated)
    return {
        "error": None,
        "prompt": event.prompt,
        "model": event.model,
        "media_blob_key": event.media.blob_key,
        "media_content_type": event.media.content_type,
        "media_size_bytes": event.media.size_bytes,
        "duration_s": event.media.duration_s,
        "provider": event.provider,
        "prediction_id": event.prediction_id,
        "attempts": event.attempts,
        "retried_count": event.retried_count,
    }


def _given_up(row: AssetRow, event: Any, error: Json | None) -> AssetUpdate:
    assert isinstance(event, AssetFailed | AssetNeedsPromptUpdate)
    return {
        "error": error,
        "prompt": event.prompt,
        "model": event.model,
        "retried_count": event.retried_count,
        "attempts": event.attempts,
    }


_UPDATE: dict[type[Payload], Callable[[AssetRow, Any, Json | None], AssetUpdate]] = {
    AssetRegenerationRequested: _regeneration_requested,
    AssetAttemptStarted: _attempt_started,
    AssetRetrying: _retrying,
    AssetGenerated: _generated,
    AssetFailed: _given_up,
    AssetNeedsPromptUpdate: _given_up,
}


def _error(event: AssetRetrying | AssetFailed | AssetNeedsPromptUpdate) -> Json:
    return event.error.model_dump(mode="json")


def _touch(lecture: LectureRow, env: Envelope) -> LectureRow:
    return replaced(lecture, {"updated_at": max(lecture.updated_at, env.time)})


def attempt_number(event: AssetEvent) -> int | None:
    if isinstance(event, AssetAttemptStarted | AssetRetrying):
        return event.attempt
    if isinstance(event, AssetGenerated | AssetFailed | AssetNeedsPromptUpdate):
        return event.attempts
    return None


def _attempt(
    state: ViewState, event: AssetEvent, env: Envelope, superseded: bool, error: Json | None
) -> AttemptRow | None:
    """The attempt history row this event records, superseded versions included."""
    number = attempt_number(event)
    if number is None:
        return None
    key = (event.asset_id, event.prompt_version, number)
    old = state.attempt(key)
    started_at = None if old is None else old.started_at
    finished_at = None if old is None else old.finished_at
    outcome = None if old is None else old.outcome
    prediction_id = None if old is None else old.prediction_id
    if isinstance(event, AssetAttemptStarted):
        started_at = event.started_at
        error = None if old is None else old.error
    else:
        finished_at, outcome = env.time, _STATUS_VALUE[type(event)]
        if isinstance(event, AssetGenerated):
            prediction_id = event.prediction_id
    return AttemptRow(
        *key,
        lecture_id=event.lecture_id,
        started_at=started_at,
        finished_at=finished_at,
        outcome=outcome,
        error=error,
        prediction_id=prediction_id,
        event_id=env.id,
        superseded=superseded,
    )


def _feed(
    state: ViewState, event: AssetEvent, env: Envelope, applied: bool, view: AssetRow | None
) -> FeedRow:
    data: Json = event.model_dump(mode="json")
    data |= {
        "event_id": env.id,
        "time": env.time.isoformat(),
        "applied": applied,
        "asset_status": None if view is None else _VALUE[_read_status(view.status)],
        "asset_prompt_version": None if view is None else view.prompt_version,
    }
    return FeedRow(
        lecture_id=event.lecture_id,
        seq=state.last_seq(event.lecture_id) + 1,
        event_id=env.id,
        event_type=_SHORT_TYPE[type(event)],
        asset_id=event.asset_id,
        prompt_version=event.prompt_version,
        applied=applied,
        data=data,
        created_at=env.time,
    )


_SHORT_TYPE: dict[type[Payload], str] = {t: t.short_type() for t in _STATUS}

REDUCERS: dict[type[Payload], Reducer] = {
    LectureCreated: lecture_created,
    **{event_type: asset_event for event_type in _STATUS},
}
