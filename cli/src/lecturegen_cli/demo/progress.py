"""What the demo knows about a lecture while it runs: each asset's latest status, fed by the
SSE stream and by polls of the assets endpoint. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.events import ASSET_EVENT_TYPES
from shared.status import AssetStatus, VersionedStatus

# What an SSE event says about the asset when its data carries no `asset_status`.
_EVENT_STATUS = {t.short_type(): t.STATUS for t in ASSET_EVENT_TYPES}


@dataclass(slots=True)
class LectureProgress:
    """Each asset's status, by asset id; newer prompt versions win, as in the views."""

    statuses: dict[str, VersionedStatus] = field(default_factory=dict)

    @classmethod
    def starting(cls, asset_ids: Iterable[str]) -> LectureProgress:
        return cls({asset_id: VersionedStatus(1, AssetStatus.PENDING) for asset_id in asset_ids})

    def apply_event(self, event: str, data: Mapping[str, Any]) -> bool:
        """Take in one SSE message; True when it changed an asset's status."""
        asset_id = data.get("asset_id")
        if not isinstance(asset_id, str):
            return False
        raw = data.get("asset_status")
        status = AssetStatus(raw) if raw else _EVENT_STATUS.get(event)
        version = data.get("asset_prompt_version") or data.get("prompt_version") or 1
        if status is None:
            return False
        return self._set(asset_id, int(version), status)

    def apply_view(self, assets: Iterable[Mapping[str, Any]]) -> bool:
        """Take in the assets endpoint's answer; True when anything changed.

        A poll may have been answered before the stream's latest message was projected, so
        it only brings news the stream cannot take back: a terminal status, a newer version.
        The steps in between come from the stream.
        """
        changed = False
        for asset in assets:
            asset_id = asset["asset_id"]
            version = int(asset.get("prompt_version", 1))
            status = AssetStatus(asset.get("status") or AssetStatus.GENERATED)
            current = self.statuses.get(asset_id)
            newer = current is None or version > current.prompt_version
            if newer or status.is_terminal:
                changed |= self._set(asset_id, version, status)
        return changed

    def _set(self, asset_id: str, version: int, status: AssetStatus) -> bool:
        # A newer version starts afresh; within a version only a terminal status is final.
        current = self.statuses.get(asset_id)
        if current is not None:
            if version < current.prompt_version:
                return False
            if version == current.prompt_version and (
                current.status is status or current.status.is_terminal
            ):
                return False
        self.statuses[asset_id] = VersionedStatus(version, status)
        return True

    def counts(self) -> Counter[AssetStatus]:
        return Counter(s.status for s in self.statuses.values())

    @property
    def terminal(self) -> int:
        return sum(1 for s in self.statuses.values() if s.status.is_terminal)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def done(self) -> bool:
        return self.total > 0 and self.terminal == self.total


def counts_line(counts: Mapping[AssetStatus, int]) -> str:
    """`pending 3 · retrying 1 · generated 12` in the order statuses progress."""
    return " · ".join(f"{s.value} {counts[s]}" for s in AssetStatus if counts.get(s))
