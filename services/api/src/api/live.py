"""The live event stream of one lecture, as Server-Sent Events.

Subscribe first, then read the feed after the client's last sequence number, then wait for a
wake-up (or the heartbeat) and read again: every read is "rows after the last one sent, by
seq", so nothing is lost between the catch-up and the live part and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi.sse import ServerSentEvent

from api.broadcaster import Broadcaster
from api.queries import FeedRow, ReadModel

PAGE = 500
HEARTBEAT = "heartbeat"


async def lecture_events(
    lecture_id: str,
    after_seq: int,
    *,
    reads: ReadModel,
    broadcaster: Broadcaster,
    heartbeat_s: float,
) -> AsyncIterator[ServerSentEvent]:
    """The lecture's asset events after `after_seq`, then live ones, until the client leaves."""
    last = after_seq
    with broadcaster.subscribe(lecture_id) as wake:
        while True:
            wake.clear()  # before reading: a wake-up during the read is kept for the next round
            rows = await reads.feed_after(lecture_id, last, PAGE)
            for row in rows:
                yield message(row)
                last = row.seq
            if len(rows) == PAGE:
                continue
            try:
                async with asyncio.timeout(heartbeat_s):
                    await wake.wait()
            except TimeoutError:
                # The heartbeat keeps proxies from closing an idle stream; the re-read that
                # follows it also covers a notification lost while LISTEN reconnected.
                yield ServerSentEvent(comment=HEARTBEAT)


def message(row: FeedRow) -> ServerSentEvent:
    return ServerSentEvent(event=row.event_type, id=str(row.seq), raw_data=row.data)
