"""Timeline assembly (DESIGN §2): one clip slot per requested asset, whatever its status.

`assemble_timeline` is pure: it takes the lecture's segments and assets as read from the
read model's views (`shared.read_model`) and never fails because some assets failed or are
missing. Clips mirror their asset's `status` and `error`; a clip without playable media says
why in `missing_reason`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.errors import ErrorInfo
from shared.media import MediaKind
from shared.read_model.rows import AssetRow, SegmentRow
from shared.status import AssetStatus, read_status

TRACK_ORDER: tuple[str, ...] = ("visual", "video", "narration", "music")
"""Every timeline has these tracks, in this order (empty when nothing was requested)."""

NO_MEDIA = "no_media"
"""`missing_reason` of a generated asset whose media reference is missing."""


@dataclass(frozen=True, slots=True)
class TimelineSegment:
    """Where one segment sits on the timeline."""

    segment_id: str
    start_s: float
    duration_s: float

    @classmethod
    def from_row(cls, row: SegmentRow) -> TimelineSegment:
        """A segment from a row of the `segments` view."""
        return cls(row.segment_id, row.start_s, row.duration_s)


@dataclass(frozen=True, slots=True)
class TimelineAsset:
    """What the timeline needs to know about one requested asset."""

    asset_id: str
    kind: MediaKind
    segment_id: str | None
    status: AssetStatus
    error: ErrorInfo | None = None
    media_key: str | None = None
    waiting_for: str | None = None

    @classmethod
    def from_row(cls, row: AssetRow) -> TimelineAsset:
        """An asset from a row of the `assets` view; a NULL status reads as `generated`."""
        return cls(
            asset_id=row.asset_id,
            kind=MediaKind(row.kind),
            segment_id=row.segment_id,
            status=read_status(row.status),
            error=None if row.error is None else ErrorInfo.model_validate(row.error),
            media_key=row.media_blob_key,
            waiting_for=row.waiting_for,
        )


@dataclass(frozen=True, slots=True)
class Clip:
    """One clip slot on a track: media when there is some, a placeholder when not."""

    clip_id: str
    asset_id: str
    segment_id: str | None
    start_s: float
    duration_s: float
    status: AssetStatus
    error: ErrorInfo | None
    missing_reason: str | None
    media_url: str | None
    waiting_for: str | None = None
    """`provider`: `retrying`, held while its model's circuit is open."""

    def as_json(self) -> dict[str, Any]:
        return {
            "clip_id": self.clip_id,
            "asset_id": self.asset_id,
            "segment_id": self.segment_id,
            "start_s": self.start_s,
            "duration_s": self.duration_s,
            "status": self.status.value,
            "error": None if self.error is None else self.error.model_dump(mode="json"),
            "missing_reason": self.missing_reason,
            "media_url": self.media_url,
            "waiting_for": self.waiting_for,
        }


@dataclass(frozen=True, slots=True)
class Track:
    """The clips of one kind of media, ordered by start time."""

    kind: str
    clips: tuple[Clip, ...]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "clips": [clip.as_json() for clip in self.clips]}


@dataclass(frozen=True, slots=True)
class Timeline:
    """The whole lecture's timeline, in the shape of `GET /v1/lectures/{id}/timeline`."""

    lecture_id: str
    duration_s: float
    tracks: tuple[Track, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "lecture_id": self.lecture_id,
            "duration_s": self.duration_s,
            "tracks": [track.as_json() for track in self.tracks],
        }


def default_media_url(key: str) -> str:
    """The API's media route for a blob key."""
    return f"/media/{key}"


def clip_id(asset_id: str) -> str:
    """The id of an asset's clip slot: one slot per asset, stable across regenerations."""
    return f"clip_{asset_id}"


def assemble_timeline(
    lecture_id: str,
    duration_s: float,
    segments: Iterable[TimelineSegment],
    assets: Iterable[TimelineAsset],
    *,
    media_url: Callable[[str], str] = default_media_url,
) -> Timeline:
    """The timeline of a lecture: every requested asset gets exactly one clip slot.

    A clip is sized by its segment; music (and any asset whose segment is unknown) spans the
    lecture. The lecture is at least as long as its segments.
    """
    by_id = {segment.segment_id: segment for segment in segments}
    length = max([duration_s, *(s.start_s + s.duration_s for s in by_id.values())])
    clips: dict[str, list[Clip]] = {track: [] for track in TRACK_ORDER}
    for asset in assets:
        segment = by_id.get(asset.segment_id) if asset.segment_id is not None else None
        if asset.kind is MediaKind.MUSIC or segment is None:
            start, slot_s = 0.0, length
        else:
            start, slot_s = segment.start_s, segment.duration_s
        clips[asset.kind.track].append(_clip(asset, start, slot_s, media_url))
    tracks = tuple(
        Track(track, tuple(sorted(clips[track], key=lambda c: (c.start_s, c.asset_id))))
        for track in TRACK_ORDER
    )
    return Timeline(lecture_id=lecture_id, duration_s=length, tracks=tracks)


def _clip(
    asset: TimelineAsset, start_s: float, duration_s: float, media_url: Callable[[str], str]
) -> Clip:
    playable = asset.status is AssetStatus.GENERATED and asset.media_key is not None
    missing = None if playable else (asset.status.missing_reason or NO_MEDIA)
    return Clip(
        clip_id=clip_id(asset.asset_id),
        asset_id=asset.asset_id,
        segment_id=asset.segment_id,
        start_s=start_s,
        duration_s=duration_s,
        status=asset.status,
        error=asset.error,
        missing_reason=missing,
        media_url=media_url(asset.media_key) if playable and asset.media_key else None,
        waiting_for=asset.waiting_for,
    )
