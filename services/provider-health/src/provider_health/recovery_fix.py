"""A fix for faust-streaming 0.15.3 losing a record it fetched at the end of table recovery.

Faust resumes flow control when recovery starts (to read the changelogs) and again when it
ends, and `mode`'s `FlowControlEvent.resume` empties every stream queue each time, even when
flow was not suspended. A record of a stream partition fetched between the two (the one a
restart must handle first) is dropped from its queue after the fetch position has passed it:
the agent never sees it, and nothing fetches it again until the next rebalance (decision 0028,
"Known defect"). Emptying the queues only when flow really was suspended keeps it. Queues are
still emptied on the resume that ends a rebalance, whose records are fetched again after the
seek to committed offsets; at worst a record is handled twice, which at-least-once allows.
"""

from __future__ import annotations

from mode.utils.queues import FlowControlEvent

_resume_and_clear = FlowControlEvent.resume


def _resume(self: FlowControlEvent) -> None:
    """Resume production into the queues; empty them only if flow was suspended."""
    if self.is_active():
        return
    _resume_and_clear(self)


def keep_records_fetched_during_recovery() -> None:
    """Install the fix (idempotent); call it before the faust worker starts."""
    FlowControlEvent.resume = _resume  # type: ignore[method-assign]
