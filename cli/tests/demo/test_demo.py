import asyncio
from collections.abc import AsyncIterator

import pytest

from lecturegen_cli.api_client import ApiError
from lecturegen_cli.api_target import ApiTarget, NoTokenError, resolve_target
from lecturegen_cli.demo.plan import build_demo_plan
from lecturegen_cli.demo.progress import LectureProgress
from lecturegen_cli.demo.run import DemoResult, follow, outcome_of
from lecturegen_cli.demo.view import summary_line
from lecturegen_cli.sse import SseMessage
from lecturegen_cli.state import Phase, RunState
from shared.status import AssetStatus


class InMemoryLectureApi:
    """The assets endpoint answers from a list of views; the stream sends given messages."""

    def __init__(self, views: list[list[dict]], messages: list[SseMessage] = ()) -> None:
        self._views = views
        self._messages = list(messages)
        self.reads = 0

    async def lecture_assets(self, lecture_id: str) -> list[dict]:
        view = self._views[min(self.reads, len(self._views) - 1)]
        self.reads += 1
        if view is None:
            raise ApiError(404, "unknown lecture")
        return view

    async def events(self, lecture_id: str, last_event_id=None) -> AsyncIterator[SseMessage]:
        for message in self._messages:
            yield message
        await asyncio.Event().wait()  # the stream stays open, silent


def _asset(asset_id: str, status: str) -> dict:
    return {"asset_id": asset_id, "status": status, "prompt_version": 1}


async def test_following_ends_once_the_assets_endpoint_shows_every_asset_terminal():
    api = InMemoryLectureApi(
        [
            None,  # not projected yet
            [_asset("a", "pending"), _asset("b", "retrying")],
            [_asset("a", "generated"), _asset("b", "failed")],
        ]
    )
    progress = LectureProgress.starting(["a", "b"])
    seen = []
    done = await follow(
        api, "L", progress, timeout_s=10, on_progress=seen.append, poll_interval_s=0.01
    )
    assert done
    assert progress.done
    assert seen  # the display was told about the changes


async def test_stream_events_update_the_progress_before_the_views_catch_up():
    message = SseMessage(
        "asset.retrying", '{"asset_id": "a", "asset_status": "retrying", "asset_prompt_version": 1}'
    )
    api = InMemoryLectureApi([[_asset("a", "pending")]], [message])
    progress = LectureProgress.starting(["a"])
    changed = asyncio.Event()
    task = asyncio.create_task(
        follow(
            api, "L", progress, timeout_s=30, on_progress=lambda p: changed.set(), poll_interval_s=9
        )
    )
    try:
        async with asyncio.timeout(5):
            while progress.statuses["a"].status is not AssetStatus.RETRYING:
                changed.clear()
                await changed.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_following_gives_up_after_its_timeout():
    api = InMemoryLectureApi([[_asset("a", "pending")]])
    assert not await follow(
        api, "L", LectureProgress.starting(["a"]), timeout_s=0.2, on_progress=lambda p: None
    )


def test_an_outcome_counts_the_attempts_of_the_current_version_or_the_retries_plus_one():
    plan = build_demo_plan("t1")
    listed = {
        "asset_id": "x",
        "kind": "image",
        "segment_id": "s4",
        "status": "needs_prompt_update",
        "prompt_version": 1,
        "retried_count": 0,
        "error": {"code": "SENSITIVE_CONTENT", "message": "flagged"},
        "attempts": [],
    }
    outcome = outcome_of(listed, plan)
    assert (outcome.attempts, outcome.error_code) == (1, "SENSITIVE_CONTENT")
    assert outcome.as_expected
    detailed = {
        **listed,
        "status": "generated",
        "prompt_version": 2,
        "error": None,
        "attempts": [
            {"prompt_version": 1, "attempt": 1, "superseded": False},
            {"prompt_version": 2, "attempt": 1, "superseded": False},
            {"prompt_version": 2, "attempt": 2, "superseded": False},
        ],
    }
    again = outcome_of(detailed, plan)
    assert again.attempts == 2
    assert again.as_expected is False  # the plan expected version 1 to need a new prompt


def test_the_summary_says_when_an_asset_ended_differently_than_expected():
    plan = build_demo_plan("t1")
    good = outcome_of(
        {"asset_id": "m", "kind": "music", "status": "generated", "retried_count": 0}, plan
    )
    bad = outcome_of(
        {"asset_id": "v", "kind": "video", "segment_id": "s6", "status": "generated"}, plan
    )
    assert "every asset ended as its scenario expects" in summary_line(
        DemoResult("L", "u", 3.0, True, (good,))
    )
    line = summary_line(DemoResult("L", "u", 3.0, True, (good, bad)))
    assert "1 asset(s) ended differently" in line
    assert DemoResult("L", "u", 3.0, True, (good, bad)).to_json()["counts"] == {"generated": 2}


def _state(provider: str = "replicate-sim") -> RunState:
    return RunState(
        supervisor_pid=1,
        supervisor_ticks=1,
        phase=Phase.READY,
        started_at="t",
        api_url="http://127.0.0.1:8123",
        api_token="run-token",
        provider=provider,
        kafka_bootstrap="k",
        database_url="d",
        topic_namespace="",
        log_dir="l",
    )


def test_the_demo_targets_the_recorded_run_unless_told_otherwise():
    assert resolve_target(None, None, _state(), {}) == ApiTarget(
        "http://127.0.0.1:8123", "run-token", real_provider=False
    )
    other = resolve_target("http://elsewhere:9000/", "t", _state(), {})
    assert other == ApiTarget("http://elsewhere:9000", "t", real_provider=False)
    assert resolve_target(None, None, _state("replicate"), {}).real_provider


def test_without_a_run_the_demo_uses_the_environment_and_needs_a_token():
    env = {"LECTUREGEN_API_TOKENS": "a,b", "REPLICATE_API_TOKEN": "r8_x"}
    target = resolve_target(None, None, None, env)
    assert target == ApiTarget("http://127.0.0.1:8000", "a", real_provider=True)
    with pytest.raises(NoTokenError):
        resolve_target(None, None, None, {})
