"""The read model's `NOTIFY` channels and their payloads.

The projector sends one `EVENTS_CHANNEL` notification per lecture per transaction that
appended feed rows, delivered at commit, carrying the highest `seq` written; every row up to
it is visible when it arrives. A listener only learns *that* a feed grew: it reads the feed
itself, so a lost or coalesced notification loses no event.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENTS_CHANNEL = "lecturegen_events"
"""Payload: `FeedNotice.payload()`, `<lecture_id>:<seq>`."""

GENERATION_CHANNEL = "lecturegen_generation"
"""Payload: `<N>`, the generation a rebuild switched the views to (the feed is identical
across generations, so a listener need not react)."""


@dataclass(frozen=True, slots=True)
class FeedNotice:
    """A lecture's feed grew up to `seq`."""

    lecture_id: str
    seq: int

    def payload(self) -> str:
        return f"{self.lecture_id}:{self.seq}"

    @classmethod
    def parse(cls, payload: str) -> FeedNotice | None:
        """The notice a payload carries; None for a payload that is not one."""
        lecture_id, sep, seq = payload.rpartition(":")
        if not sep or not lecture_id or not seq.isdigit():
            return None
        return cls(lecture_id, int(seq))
