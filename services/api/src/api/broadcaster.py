"""One PostgreSQL LISTEN connection per API process, fanned out to the SSE clients.

The projector sends a `FeedNotice` on the read model's `EVENTS_CHANNEL` when it commits feed
rows. A notification only wakes the clients of that lecture; each client then reads the feed
itself, by sequence number, so a wake-up can be coalesced or even lost without losing an
event (clients also re-read on every heartbeat). When the connection drops, the broadcaster
reconnects and wakes everyone, since notifications sent meanwhile never arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator

import asyncpg

from shared.read_model.notify import EVENTS_CHANNEL, FeedNotice

log = logging.getLogger(__name__)


class Broadcaster:
    """Wakes the subscribers of a lecture when the projector appends to its feed."""

    def __init__(
        self, dsn: str, *, channel: str = EVENTS_CHANNEL, reconnect_s: float = 1.0
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._reconnect_s = reconnect_s
        self._subscribers: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def clients(self) -> int:
        return sum(len(events) for events in self._subscribers.values())

    async def start(self, timeout_s: float = 10.0) -> None:
        """Connect and LISTEN; returns once listening (reconnects on its own afterwards)."""
        self._task = asyncio.create_task(self._run(), name="sse-broadcaster")
        try:
            async with asyncio.timeout(timeout_s):
                await self._listening.wait()
        except TimeoutError:
            await self.close()
            raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.contextmanager
    def subscribe(self, lecture_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the lecture's feed may have grown; clear it before reading."""
        wake = asyncio.Event()
        self._subscribers[lecture_id].add(wake)
        try:
            yield wake
        finally:
            subscribers = self._subscribers.get(lecture_id)
            if subscribers is not None:
                subscribers.discard(wake)
                if not subscribers:
                    del self._subscribers[lecture_id]

    def notify(self, payload: str) -> None:
        """Wake the subscribers a notification payload (`FeedNotice`) is about; everyone for a
        payload that is not one."""
        notice = FeedNotice.parse(payload)
        if notice is None:
            self._wake_all()
            return
        for wake in self._subscribers.get(notice.lecture_id, ()):
            wake.set()

    def _wake_all(self) -> None:
        for subscribers in self._subscribers.values():
            for wake in subscribers:
                wake.set()

    async def _run(self) -> None:
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(self._channel, self._on_notification)
                self._listening.set()
                self._wake_all()  # notifications sent while we were away are lost: re-read
                await lost.wait()
                log.warning("LISTEN connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("LISTEN connection failed: %r; retrying", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(self._reconnect_s)

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.notify(str(payload))
