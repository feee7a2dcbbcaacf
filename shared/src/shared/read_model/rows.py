"""The rows of the read model's tables, as plain frozen values (see `docs/read-model.md`).

Each row type *is* its table's definition: its fields are the columns, in order, and each
field's type gives the column's PostgreSQL type (`tables.pg_type`; `Annotated` where the
plain Python type is not enough, e.g. a `bigint`). The projector writes these rows; the API,
the timeline and the CLI read them.

JSON columns hold plain JSON values (`dict`), exactly what is stored; times come from the
events, so replaying the same log gives the same rows.

Rows are named tuples rather than frozen dataclasses: a replay builds and replaces a few rows
per event, hundreds of thousands of times, and a named tuple is several times cheaper to
build and to `_replace` (a frozen dataclass sets each field through `object.__setattr__`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Annotated, Any, NamedTuple, TypeVar

Json = dict[str, Any]
"""A `jsonb` column's value."""

BIGINT = "int8"
"""The PostgreSQL type of an `int` field annotated with it (an `int` is an `integer`)."""

Row = TypeVar("Row", bound=tuple[Any, ...])


def replaced(row: Row, changes: Mapping[str, Any]) -> Row:
    """`row._replace(**changes)`, several times faster for a wide row changed in a few fields
    (`_replace` looks every field up in the changes; this only the changed ones). A name that
    is no field raises `KeyError`."""
    values = list(row)
    index = _field_index(type(row))
    for name, value in changes.items():
        values[index[name]] = value
    return tuple.__new__(type(row), values)


@cache
def _field_index(row_type: type[tuple[Any, ...]]) -> dict[str, int]:
    return {name: i for i, name in enumerate(row_type._fields)}  # type: ignore[attr-defined]


class LectureRow(NamedTuple):
    """A lecture as submitted."""

    lecture_id: str
    title: str
    duration_s: float
    created_event_id: str
    created_at: datetime
    updated_at: datetime


class SegmentRow(NamedTuple):
    """Where one segment of a lecture sits on the timeline."""

    lecture_id: str
    segment_id: str
    position: int
    title: str | None
    start_s: float
    duration_s: float


class AssetRow(NamedTuple):
    """The current state of one asset (its newest `prompt_version`)."""

    asset_id: str
    lecture_id: str
    segment_id: str | None
    kind: str
    position: int
    status: str | None
    error: Json | None
    prompt: str
    model: str
    params: Json
    prompt_version: int
    requested_duration_s: float | None
    media_blob_key: str | None
    media_content_type: str | None
    media_size_bytes: Annotated[int, BIGINT] | None
    duration_s: float | None
    retried_count: int
    attempts: int
    provider: str | None
    prediction_id: str | None
    created_at: datetime
    updated_at: datetime
    last_event_id: str
    waiting_for: str | None = None
    """`provider` while the asset is `retrying`, held because its model's circuit is open."""


NEW_VERSION: Mapping[str, Any] = {
    "error": None,
    "media_blob_key": None,
    "media_content_type": None,
    "media_size_bytes": None,
    "duration_s": None,
    "retried_count": 0,
    "attempts": 0,
    "provider": None,
    "prediction_id": None,
    "waiting_for": None,
}
"""The columns of an `AssetRow` that belong to one version, as each version starts: no error,
no media, no attempts yet."""


AttemptKey = tuple[str, int, int]
"""(asset_id, prompt_version, attempt)"""


class AttemptRow(NamedTuple):
    """One provider attempt of one asset version, superseded versions included."""

    asset_id: str
    prompt_version: int
    attempt: int
    lecture_id: str
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    error: Json | None
    prediction_id: str | None
    event_id: str
    superseded: bool

    @property
    def key(self) -> AttemptKey:
        return (self.asset_id, self.prompt_version, self.attempt)


class FeedRow(NamedTuple):
    """One live update of a lecture: an asset event with its per-lecture sequence number."""

    lecture_id: str
    seq: Annotated[int, BIGINT]
    event_id: str
    event_type: str
    asset_id: str
    prompt_version: int
    applied: bool
    data: Json
    created_at: datetime


class FeedCounterRow(NamedTuple):
    """The highest `seq` of a lecture's feed."""

    lecture_id: str
    last_seq: Annotated[int, BIGINT]


class OffsetRow(NamedTuple):
    """The next offset the projector reads of one partition (bookkeeping, written in the
    transaction of the rows it led to)."""

    consumer: str
    topic: str
    partition: int
    next_offset: Annotated[int, BIGINT]
    updated_at: datetime


class RejectedRow(NamedTuple):
    """A record of the log that could not be decoded; it is skipped, never retried."""

    topic: str
    partition: int
    offset: Annotated[int, BIGINT]
    reason: str
    event_type: str | None
    event_id: str | None
    record_key: str | None
    value_preview: str | None
    record_time: datetime | None
