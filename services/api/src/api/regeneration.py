"""When a regeneration may start and what it asks for: pure, no I/O.

The rule behind 409: a regeneration is *pending* while its version is claimed but not yet
seen by the projector, or seen but still `pending`/`retrying`. Only one regeneration of an
asset may be pending at a time; claims are rows of the API's own `regenerations` table,
unique per (asset, version), written before the event is produced, so of two concurrent
requests for the same version exactly one wins. A claim the projector has not reflected
after `claim_ttl_s` (say the process died before producing) stops blocking: the next
request takes the version after it, so no version number is ever used twice. The same holds
at once for a claim whose event the broker did not acknowledge (`abandoned`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.schemas import RegenerateRequest
from shared.events import AssetRegenerationRequested
from shared.media import MediaKind
from shared.read_model.rows import AssetRow
from shared.status import AssetStatus, read_status

IN_PROGRESS = frozenset({AssetStatus.PENDING, AssetStatus.RETRYING})


@dataclass(frozen=True, slots=True)
class RegenerationClaim:
    """The latest regeneration the API accepted for an asset."""

    prompt_version: int
    claimed_at: datetime
    abandoned: bool = False
    """Its event may not have been produced (the broker did not acknowledge it)."""


class RegenerationPendingError(Exception):
    """A regeneration of this asset is already pending; its version is `prompt_version`."""

    def __init__(self, prompt_version: int) -> None:
        super().__init__(f"regeneration to prompt_version {prompt_version} is still pending")
        self.prompt_version = prompt_version


def next_version(
    asset: AssetRow, latest: RegenerationClaim | None, now: datetime, claim_ttl_s: float
) -> int:
    """The version a new regeneration of `asset` (as the read model shows it now) gets; raise
    `RegenerationPendingError` if one is pending."""
    if latest is None or latest.prompt_version < asset.prompt_version:
        return asset.prompt_version + 1
    unseen = latest.prompt_version > asset.prompt_version
    running = (
        latest.prompt_version == asset.prompt_version and read_status(asset.status) in IN_PROGRESS
    )
    stale = unseen and (
        latest.abandoned or now - latest.claimed_at > timedelta(seconds=claim_ttl_s)
    )
    if running or (unseen and not stale):
        raise RegenerationPendingError(latest.prompt_version)
    return latest.prompt_version + 1


def regeneration_event(
    asset: AssetRow, request: RegenerateRequest, prompt_version: int
) -> AssetRegenerationRequested:
    """The event asking for `prompt_version`, changed as requested, else as it is now."""
    return AssetRegenerationRequested(
        lecture_id=asset.lecture_id,
        asset_id=asset.asset_id,
        kind=MediaKind(asset.kind),
        segment_id=asset.segment_id,
        prompt_version=prompt_version,
        prompt=request.prompt if request.prompt is not None else asset.prompt,
        model=request.model if request.model is not None else asset.model,
        params=request.params if request.params is not None else asset.params,
        duration_s=asset.requested_duration_s,
    )
