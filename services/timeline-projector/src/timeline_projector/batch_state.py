"""The working set of one batch: the stored rows its events can touch, plus what they change.

A batch loads the rows it needs once, folds its events through the reducers in memory (each
event sees the changes of the ones before it), and writes only the final row of each key.
Unit tests use it on its own as the in-memory projection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.envelope import Envelope
from shared.events import AssetEvent, LectureCreated
from shared.read_model.rows import (
    AssetRow,
    AttemptKey,
    AttemptRow,
    FeedRow,
    LectureRow,
    SegmentRow,
)
from timeline_projector.reducers import Changes, attempt_number, reduce


@dataclass(slots=True)
class Writes:
    """The final rows a batch writes, one per key, and the feed rows it appends."""

    lectures: dict[str, LectureRow] = field(default_factory=dict)
    segments: dict[tuple[str, str], SegmentRow] = field(default_factory=dict)
    assets: dict[str, AssetRow] = field(default_factory=dict)
    attempts: dict[AttemptKey, AttemptRow] = field(default_factory=dict)
    feed: list[FeedRow] = field(default_factory=list)
    last_seqs: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Needs:
    """The keys of the stored rows a batch of events may read."""

    lecture_ids: set[str] = field(default_factory=set)
    asset_ids: set[str] = field(default_factory=set)
    attempt_keys: set[AttemptKey] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)


def needs(envelopes: Iterable[Envelope]) -> Needs:
    """What to load before folding `envelopes`: every row their reducers can look at."""
    found = Needs()
    for env in envelopes:
        event = env.payload
        if isinstance(event, LectureCreated):
            found.lecture_ids.add(event.lecture_id)
            found.asset_ids.update(plan.asset_id for plan in event.assets)
        elif isinstance(event, AssetEvent):
            found.lecture_ids.add(event.lecture_id)
            found.asset_ids.add(event.asset_id)
            found.event_ids.add(env.id)
            number = attempt_number(event)
            if number is not None:
                found.attempt_keys.add((event.asset_id, event.prompt_version, number))
    return found


@dataclass(slots=True)
class Rows:
    """Stored rows, by key: what a batch starts from (see `working_set` for keeping them)."""

    lectures: dict[str, LectureRow] = field(default_factory=dict)
    assets: dict[str, AssetRow] = field(default_factory=dict)
    attempts: dict[AttemptKey, AttemptRow] = field(default_factory=dict)
    last_seqs: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    """Event ids already in the feed."""


class BatchState:
    """A `ViewState` over stored rows that also records every change applied to it.

    The changes are kept apart from `base` (the stored rows, which this never modifies), so a
    batch that could not be written leaves its base as it was.
    """

    def __init__(
        self,
        lectures: Iterable[LectureRow] = (),
        assets: Iterable[AssetRow] = (),
        attempts: Iterable[AttemptRow] = (),
        last_seqs: dict[str, int] | None = None,
        seen: Iterable[str] = (),
        *,
        base: Rows | None = None,
    ) -> None:
        self._base = base or Rows()
        self._lectures = {row.lecture_id: row for row in lectures}
        self._assets = {row.asset_id: row for row in assets}
        self._attempts = {row.key: row for row in attempts}
        self._last_seqs = dict(last_seqs or {})
        self._seen = set(seen)
        self.writes = Writes()

    def lecture(self, lecture_id: str) -> LectureRow | None:
        row = self._lectures.get(lecture_id)
        return self._base.lectures.get(lecture_id) if row is None else row

    def asset(self, asset_id: str) -> AssetRow | None:
        row = self._assets.get(asset_id)
        return self._base.assets.get(asset_id) if row is None else row

    def attempt(self, key: AttemptKey) -> AttemptRow | None:
        row = self._attempts.get(key)
        return self._base.attempts.get(key) if row is None else row

    def last_seq(self, lecture_id: str) -> int:
        seq = self._last_seqs.get(lecture_id)
        return self._base.last_seqs.get(lecture_id, 0) if seq is None else seq

    def seen(self, event_id: str) -> bool:
        return event_id in self._seen or event_id in self._base.seen

    def apply(self, changes: Changes) -> None:
        """Make `changes` visible to the next event and record them for writing."""
        w = self.writes
        if changes.lecture is not None:
            self._lectures[changes.lecture.lecture_id] = changes.lecture
            w.lectures[changes.lecture.lecture_id] = changes.lecture
        for segment in changes.segments:
            w.segments[(segment.lecture_id, segment.segment_id)] = segment
        for asset in changes.assets:
            self._assets[asset.asset_id] = asset
            w.assets[asset.asset_id] = asset
        if changes.attempt is not None:
            self._attempts[changes.attempt.key] = changes.attempt
            w.attempts[changes.attempt.key] = changes.attempt
        if changes.feed is not None:
            feed = changes.feed
            self._last_seqs[feed.lecture_id] = feed.seq
            self._seen.add(feed.event_id)
            w.feed.append(feed)
            w.last_seqs[feed.lecture_id] = feed.seq

    def fold(self, envelope: Envelope) -> Changes:
        """Reduce one event against this state and apply the result."""
        changes = reduce(self, envelope)
        self.apply(changes)
        return changes
