"""The live event stream of one lecture, as Server-Sent Events.

Subscribe first, then read the feed after the client's last sequence number, then wait for a
wake-up (or the heartbeat) and read again: every read is "rows after the last one sent, by
seq", so nothing is lost between the catch-up and the live part and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi.sse import ServerSentEvent

from api.broadcaster import Broadcaster
from api.outages import DATABASE_OUTAGES
from api.queries import FeedMessage, ReadModel

PAGE = 500
log = logging.getLogger(__name__)
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
            try:
                rows = await reads.feed_after(lecture_id, last, PAGE)
            except DATABASE_OUTAGES as exc:
                # A browser's EventSource gives up on a 503, so an open stream outlives a
                # database outage: keep it alive and read again after the next heartbeat.
                log.warning("feed read failed; the stream waits for the database: %r", exc)
                rows = []
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


def message(row: FeedMessage) -> ServerSentEvent:
    return ServerSentEvent(event=row.event_type, id=str(row.seq), raw_data=row.data)
