from lecturegen_cli.demo.progress import LectureProgress, counts_line
from shared.status import AssetStatus, VersionedStatus


def test_events_move_assets_and_count_them_per_status():
    progress = LectureProgress.starting(["a", "b"])
    assert progress.apply_event("asset.retrying", {"asset_id": "a", "prompt_version": 1})
    assert progress.apply_event(
        "asset.generated", {"asset_id": "b", "asset_status": "generated", "asset_prompt_version": 1}
    )
    assert progress.counts() == {AssetStatus.RETRYING: 1, AssetStatus.GENERATED: 1}
    assert progress.terminal == 1
    assert not progress.done


def test_the_views_status_in_the_event_data_wins_over_the_event_type():
    progress = LectureProgress.starting(["a"])
    # A late retrying event the view did not apply: the data carries the asset's real status.
    progress.apply_event(
        "asset.retrying", {"asset_id": "a", "asset_status": "failed", "asset_prompt_version": 1}
    )
    assert progress.statuses["a"].status is AssetStatus.FAILED


def test_a_terminal_status_stays_until_a_newer_prompt_version_arrives():
    progress = LectureProgress.starting(["a"])
    progress.apply_event("asset.needs-prompt-update", {"asset_id": "a", "prompt_version": 1})
    assert not progress.apply_event("asset.attempt-started", {"asset_id": "a", "prompt_version": 1})
    assert progress.done
    assert progress.apply_event(
        "asset.regeneration-requested", {"asset_id": "a", "prompt_version": 2}
    )
    assert progress.statuses["a"].status is AssetStatus.PENDING
    assert not progress.done
    assert not progress.apply_event("asset.generated", {"asset_id": "a", "prompt_version": 1})


def test_a_snapshot_of_the_assets_endpoint_brings_terminal_statuses_and_new_versions():
    progress = LectureProgress.starting(["a", "b"])
    changed = progress.apply_view(
        [
            {"asset_id": "a", "status": "generated", "prompt_version": 1},
            {"asset_id": "b", "status": "pending", "prompt_version": 1},
        ]
    )
    assert changed
    assert not progress.apply_view([{"asset_id": "a", "status": "generated", "prompt_version": 1}])
    assert progress.terminal == 1
    assert progress.apply_view([{"asset_id": "a", "status": "pending", "prompt_version": 2}])
    assert progress.statuses["a"] == VersionedStatus(2, AssetStatus.PENDING)


def test_an_older_snapshot_never_takes_back_what_the_stream_said():
    progress = LectureProgress.starting(["a"])
    progress.apply_event("asset.retrying", {"asset_id": "a", "asset_status": "retrying"})
    assert not progress.apply_view([{"asset_id": "a", "status": "pending", "prompt_version": 1}])
    assert progress.statuses["a"].status is AssetStatus.RETRYING


def test_messages_without_an_asset_id_or_a_known_type_change_nothing():
    progress = LectureProgress.starting(["a"])
    assert not progress.apply_event("asset.generated", {})
    assert not progress.apply_event("something.else", {"asset_id": "a"})


def test_the_counts_line_lists_statuses_in_the_order_they_progress():
    line = counts_line({AssetStatus.FAILED: 1, AssetStatus.PENDING: 3, AssetStatus.GENERATED: 2})
    assert line == "pending 3 · generated 2 · failed 1"
