"""The pure parts of `lecturegen redrive`: the arguments, the idempotency key, what is skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lecturegen_cli.ops.redrive import (
    Candidate,
    RedriveArgumentError,
    Selection,
    command_key,
    request_body,
    still_wanted,
)
from shared.media import MediaKind
from shared.status import AssetStatus

T0 = datetime(2026, 1, 1, 14, tzinfo=UTC)


def candidate(status: str = "failed", model: str = "a/old") -> Candidate:
    return Candidate("as1", "lec1", "image", status, model, 1, "TRANSIENT_PROVIDER_ERROR", T0)


def test_the_key_is_the_same_for_the_same_asset_version_and_arguments() -> None:
    one = Selection(code="TRANSIENT_PROVIDER_ERROR", kind=MediaKind.IMAGE, since=T0)
    same = Selection(since=T0, kind=MediaKind.IMAGE, code="TRANSIENT_PROVIDER_ERROR")

    assert command_key("as1", 1, one) == command_key("as1", 1, same)


def test_the_key_differs_for_another_version_asset_or_argument() -> None:
    base = Selection(code="TRANSIENT_PROVIDER_ERROR")
    key = command_key("as1", 1, base)

    assert key != command_key("as1", 2, base)
    assert key != command_key("as2", 1, base)
    assert key != command_key("as1", 1, Selection(code="RATE_LIMITED"))
    assert key != command_key("as1", 1, Selection(code="TRANSIENT_PROVIDER_ERROR", model="a/b"))


def test_the_key_is_a_valid_idempotency_key_header() -> None:
    key = command_key("as1", 1, Selection())
    assert key.startswith("redrive-")
    assert len(key) <= 128
    assert key.isascii()


def test_assets_in_progress_cannot_be_redriven() -> None:
    with pytest.raises(RedriveArgumentError, match="--status"):
        Selection(status=AssetStatus.PENDING)


def test_redriving_generated_assets_needs_a_model_to_move_to() -> None:
    with pytest.raises(RedriveArgumentError, match="--model"):
        Selection(status=AssetStatus.GENERATED)
    Selection(status=AssetStatus.GENERATED, model="a/new")


def test_a_time_window_must_not_be_empty() -> None:
    with pytest.raises(RedriveArgumentError, match="--since"):
        Selection(since=T0, until=T0)


def test_the_body_keeps_prompt_and_model_unless_a_model_is_given() -> None:
    assert request_body(Selection()) == {}
    assert request_body(Selection(model="a/new")) == {"model": "a/new"}


def test_an_asset_already_generated_on_the_target_model_is_skipped() -> None:
    move = Selection(status=AssetStatus.GENERATED, model="a/new")

    assert still_wanted(candidate("generated", "a/old"), move)
    assert not still_wanted(candidate("generated", "a/new"), move)
    assert still_wanted(candidate("failed", "a/new"), Selection(model="a/new"))
