"""The completion board: a completion reaches its waiter whether it comes before or during
the wait, and a wait without one ends after its timeout."""

from __future__ import annotations

import asyncio

from shared.webhooks.completions import CompletionBoard


def _done(prediction_id: str, status: str = "succeeded") -> dict[str, object]:
    return {"id": prediction_id, "status": status, "output": "x"}


async def test_a_completion_posted_while_waiting_ends_the_wait() -> None:
    board = CompletionBoard()
    waiting = asyncio.create_task(board.wait("p1", timeout_s=5))
    await asyncio.sleep(0)
    assert board.post(_done("p1"))
    assert await waiting == _done("p1")
    assert board.waiting == 0


async def test_a_completion_posted_before_the_wait_is_kept_for_it() -> None:
    board = CompletionBoard()
    board.post(_done("p1"))
    assert await board.wait("p1", timeout_s=0.01) == _done("p1")
    assert await board.wait("p1", timeout_s=0.01) is None, "handed out once"


async def test_a_wait_without_a_completion_ends_after_its_timeout() -> None:
    board = CompletionBoard()
    assert await board.wait("p1", timeout_s=0.01) is None
    assert board.waiting == 0


async def test_unfinished_or_anonymous_predictions_are_not_completions() -> None:
    board = CompletionBoard()
    assert not board.post(_done("p1", status="processing"))
    assert not board.post({"status": "succeeded"})
    assert await board.wait("p1", timeout_s=0.01) is None


async def test_only_the_latest_unclaimed_completions_are_kept() -> None:
    board = CompletionBoard(keep_unclaimed=2)
    for prediction_id in ("p1", "p2", "p3"):
        board.post(_done(prediction_id))
    assert await board.wait("p1", timeout_s=0.01) is None
    assert await board.wait("p3", timeout_s=0.01) == _done("p3")


async def test_two_waiters_on_one_prediction_both_get_its_completion() -> None:
    board = CompletionBoard()
    first = asyncio.create_task(board.wait("p1", timeout_s=5))
    second = asyncio.create_task(board.wait("p1", timeout_s=5))
    await asyncio.sleep(0)
    assert board.waiting == 2
    board.post(_done("p1"))
    assert await first == await second == _done("p1")
    assert board.waiting == 0
