"""Waiting, bounded, for a lecture the projector has not shown yet.

A client that subscribes to a lecture's events right after its 202 may be faster than the
projector. Rather than a 404 (which a browser's EventSource never retries), the stream waits
for the lecture to appear. With `wait_for` naming the creating event, the wait also ends as
soon as that event is handled: a rejected creation is known to be missing at once.
"""

from __future__ import annotations

import asyncio

from api.queries import ReadModel

POLL_S = 0.1


async def lecture_appears(
    reads: ReadModel, lecture_id: str, *, wait_for: str | None, timeout_s: float
) -> bool:
    """Whether the lecture is in the views, waiting up to `timeout_s` for it to arrive."""
    try:
        async with asyncio.timeout(timeout_s):
            # Polling, not LISTEN: `lecture.created` sends no NOTIFY.
            while True:
                if await reads.lecture(lecture_id) is not None:
                    return True
                if wait_for is not None and await reads.is_projected(wait_for):
                    return await reads.lecture(lecture_id) is not None
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        return False
