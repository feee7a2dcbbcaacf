"""Rows of the read model for unit tests: a plausible row, changed where a test cares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.read_model.rows import NEW_VERSION, AssetRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)

_ASSET = AssetRow(
    asset_id="a1",
    lecture_id="l1",
    segment_id="s1",
    kind="image",
    position=0,
    status="pending",
    prompt="a red fox",
    model="acme/model",
    params={},
    prompt_version=1,
    requested_duration_s=None,
    created_at=T0,
    updated_at=T0,
    last_event_id="e1",
    **NEW_VERSION,
)


def asset_row(**changes: Any) -> AssetRow:
    """A row of the `assets` view: a pending image of lecture `l1`, with `changes`."""
    return _ASSET._replace(**changes)
