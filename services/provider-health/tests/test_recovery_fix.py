"""The fix for faust's stream queues emptied by a resume of flow that was never suspended."""

from __future__ import annotations

import pytest
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from provider_health.recovery_fix import keep_records_fetched_during_recovery


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fix installed for one test (the original `resume` comes back after it)."""
    monkeypatch.setattr(FlowControlEvent, "resume", FlowControlEvent.resume)
    keep_records_fetched_during_recovery()


def _flow_with_a_queued_record() -> tuple[FlowControlEvent, FlowControlQueue[str]]:
    flow = FlowControlEvent(initially_suspended=True)
    queue: FlowControlQueue[str] = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    flow.resume()  # recovery starts: flow resumes to read the changelogs
    queue.put_nowait("a4")  # a stream record fetched meanwhile
    return flow, queue


def test_without_the_fix_the_resume_that_ends_recovery_drops_a_queued_record() -> None:
    # the defect, as the installed faust and mode have it: when this fails, the fix can go
    flow, queue = _flow_with_a_queued_record()
    flow.resume()
    assert queue.qsize() == 0


@pytest.mark.usefixtures("fixed")
def test_the_resume_that_ends_recovery_keeps_a_record_queued_while_flow_was_active() -> None:
    flow, queue = _flow_with_a_queued_record()
    flow.resume()
    assert queue.qsize() == 1


@pytest.mark.usefixtures("fixed")
def test_a_resume_after_a_suspension_still_empties_the_queues() -> None:
    flow, queue = _flow_with_a_queued_record()
    flow.suspend()  # a rebalance: what is queued is fetched again after the seek
    flow.resume()
    assert queue.qsize() == 0
