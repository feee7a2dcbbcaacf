from datetime import UTC, datetime, timedelta

import pytest

from api.regeneration import (
    RegenerationClaim,
    RegenerationPendingError,
    next_version,
    regeneration_event,
)
from api.schemas import RegenerateRequest
from shared.media import MediaKind
from shared.read_model.rows import AssetRow
from shared.status import AssetStatus
from shared.testing.read_model import asset_row

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
TTL = 120.0


def asset(version: int = 1, status: AssetStatus = AssetStatus.FAILED) -> AssetRow:
    """The asset as the read model shows it."""
    return asset_row(
        kind=MediaKind.VIDEO.value,
        status=status.value,
        prompt="a river",
        model="minimax/video-01",
        params={"fps": 24},
        prompt_version=version,
        requested_duration_s=6.0,
    )


def claim(version: int, age_s: float = 1.0, abandoned: bool = False) -> RegenerationClaim:
    return RegenerationClaim(version, NOW - timedelta(seconds=age_s), abandoned)


def test_the_first_regeneration_takes_the_next_version() -> None:
    assert next_version(asset(1), None, NOW, TTL) == 2


def test_an_asset_still_on_its_first_attempt_may_be_regenerated() -> None:
    assert next_version(asset(1, AssetStatus.PENDING), None, NOW, TTL) == 2


def test_a_regeneration_the_projector_has_not_seen_yet_is_pending() -> None:
    with pytest.raises(RegenerationPendingError) as caught:
        next_version(asset(1), claim(2), NOW, TTL)
    assert caught.value.prompt_version == 2


@pytest.mark.parametrize("status", [AssetStatus.PENDING, AssetStatus.RETRYING])
def test_a_regenerated_version_still_in_progress_is_pending(status: AssetStatus) -> None:
    with pytest.raises(RegenerationPendingError):
        next_version(asset(2, status), claim(2), NOW, TTL)


@pytest.mark.parametrize(
    "status", [AssetStatus.GENERATED, AssetStatus.FAILED, AssetStatus.NEEDS_PROMPT_UPDATE]
)
def test_a_regenerated_version_that_finished_may_be_regenerated_again(status: AssetStatus) -> None:
    assert next_version(asset(2, status), claim(2), NOW, TTL) == 3


def test_a_claim_the_projector_never_saw_stops_blocking_after_its_time_to_live() -> None:
    assert next_version(asset(1), claim(2, age_s=TTL + 1), NOW, TTL) == 3


def test_an_abandoned_claim_does_not_block_but_its_version_is_never_reused() -> None:
    assert next_version(asset(1), claim(2, abandoned=True), NOW, TTL) == 3


def test_the_view_ahead_of_the_claims_decides_the_version() -> None:
    assert next_version(asset(5), claim(2), NOW, TTL) == 6


def test_the_new_version_keeps_what_the_request_does_not_change() -> None:
    event = regeneration_event(asset(), RegenerateRequest(prompt="a calm river"), 2)
    assert (event.prompt, event.model, event.params) == (
        "a calm river",
        "minimax/video-01",
        {"fps": 24},
    )
    assert (event.prompt_version, event.kind, event.segment_id, event.duration_s) == (
        2,
        MediaKind.VIDEO,
        "s1",
        6.0,
    )


def test_empty_params_replace_the_current_ones() -> None:
    event = regeneration_event(asset(), RegenerateRequest(params={}, model="acme/v2"), 3)
    assert (event.params, event.model, event.prompt) == ({}, "acme/v2", "a river")
