import itertools

import pytest

from shared.status import (
    TERMINAL_STATUSES,
    AssetStatus,
    VersionedStatus,
    next_status,
    read_status,
)

P, R, G, N, F = (
    AssetStatus.PENDING,
    AssetStatus.RETRYING,
    AssetStatus.GENERATED,
    AssetStatus.NEEDS_PROMPT_UPDATE,
    AssetStatus.FAILED,
)

# DESIGN §2, within one prompt_version.
DESIGN_TRANSITIONS = {
    P: {G, R, N, F},
    R: {P, G, R, N, F},
    G: set(),
    N: set(),
    F: set(),
}
# Not in DESIGN's list, but a state change to the same state changes nothing: a redelivered
# attempt-started event of a pending asset is accepted as a no-op.
ALSO_ACCEPTED = {(P, P)}

ALL_PAIRS = list(itertools.product(AssetStatus, AssetStatus))


def test_the_transition_table_covers_every_status() -> None:
    assert set(DESIGN_TRANSITIONS) == set(AssetStatus)


@pytest.mark.parametrize(
    ("current", "new"),
    [(c, n) for c, n in ALL_PAIRS if n in DESIGN_TRANSITIONS[c] or (c, n) in ALSO_ACCEPTED],
)
def test_an_allowed_transition_within_one_prompt_version_is_applied(
    current: AssetStatus, new: AssetStatus
) -> None:
    assert next_status(VersionedStatus(3, current), 3, new) == VersionedStatus(3, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (c, n)
        for c, n in ALL_PAIRS
        if n not in DESIGN_TRANSITIONS[c] and (c, n) not in ALSO_ACCEPTED
    ],
)
def test_a_forbidden_transition_within_one_prompt_version_is_ignored(
    current: AssetStatus, new: AssetStatus
) -> None:
    assert next_status(VersionedStatus(3, current), 3, new) is None


def test_the_terminal_statuses_are_generated_needs_prompt_update_and_failed() -> None:
    assert {s for s in AssetStatus if s.is_terminal} == TERMINAL_STATUSES == {G, N, F}


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_a_terminal_status_stays_whatever_arrives_for_its_version(terminal: AssetStatus) -> None:
    current = VersionedStatus(1, terminal)

    for late in AssetStatus:
        assert next_status(current, 1, late) is None


def test_a_late_pending_cannot_undo_a_generated_asset() -> None:
    assert next_status(VersionedStatus(1, G), 1, P) is None


@pytest.mark.parametrize(("current", "new"), ALL_PAIRS)
def test_a_newer_prompt_version_wins_and_restarts_from_any_status(
    current: AssetStatus, new: AssetStatus
) -> None:
    assert next_status(VersionedStatus(1, current), 2, new) == VersionedStatus(2, new)


def test_a_regeneration_moves_a_failed_asset_back_to_pending_at_its_new_version() -> None:
    assert next_status(VersionedStatus(1, F), 2, P) == VersionedStatus(2, P)


@pytest.mark.parametrize("late", list(AssetStatus))
def test_an_event_of_prompt_version_1_does_not_overwrite_an_asset_at_prompt_version_2(
    late: AssetStatus,
) -> None:
    for current in AssetStatus:
        assert next_status(VersionedStatus(2, current), 1, late) is None


@pytest.mark.parametrize("first", list(AssetStatus))
def test_the_first_event_of_an_asset_sets_its_status(first: AssetStatus) -> None:
    assert next_status(None, 1, first) == VersionedStatus(1, first)


def test_a_stored_asset_without_a_status_reads_as_generated() -> None:
    assert read_status(None) is G


@pytest.mark.parametrize("status", list(AssetStatus))
def test_a_stored_status_reads_back_as_itself(status: AssetStatus) -> None:
    assert read_status(status.value) is status


def test_an_unknown_stored_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="'done'"):
        read_status("done")


def test_statuses_are_the_snake_case_names_of_the_contract() -> None:
    assert [s.value for s in AssetStatus] == [
        "pending",
        "retrying",
        "generated",
        "needs_prompt_update",
        "failed",
    ]


@pytest.mark.parametrize(
    ("status", "reason"),
    [(P, "pending"), (R, "retrying"), (G, None), (N, "needs_prompt_update"), (F, "failed")],
)
def test_only_a_generated_clip_has_no_missing_reason(
    status: AssetStatus, reason: str | None
) -> None:
    assert status.missing_reason == reason
