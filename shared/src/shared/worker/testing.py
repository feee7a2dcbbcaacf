"""Test support: read a topic from its beginning and wait, with a deadline, until what was
read satisfies a condition. Used by the integration tests of the workers and the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

from aiokafka import AIOKafkaConsumer

from shared.envelope import Envelope, decode
from shared.events import (
    AssetEvent,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    OutcomeEvent,
)
from shared.settings import KafkaSettings
from shared.worker.records import Inbound

_OUTCOMES = (AssetGenerated, AssetFailed, AssetNeedsPromptUpdate)


class TopicTail:
    """Every record of one topic, from the first, as `Inbound`s, collected in the background."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[Inbound] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> TopicTail:
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(
                    Inbound(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value,
                        list(r.headers),
                    )
                    for r in records
                )
            if batch:
                self._changed.set()

    async def wait_for(
        self, condition: Callable[[], bool], within_s: float, what: str = ""
    ) -> None:
        """Return as soon as `condition()` holds; raise `TimeoutError` after `within_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"after {within_s} s, still waiting for {what or condition}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                # woken by new records, or every half second for conditions on other state
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))


class EventLog(TopicTail):
    """The event log of one namespace, decoded."""

    @property
    def envelopes(self) -> list[Envelope]:
        return [decode(r.value, r.headers) for r in self.records]

    def of_asset(self, asset_id: str) -> list[AssetEvent]:
        """The asset's events in log order."""
        return [
            e.payload
            for e in self.envelopes
            if isinstance(e.payload, AssetEvent) and e.payload.asset_id == asset_id
        ]

    def outcomes(self, asset_id: str) -> list[OutcomeEvent]:
        """The asset's terminal events (generated, failed, needs-prompt-update)."""
        return [e for e in self.of_asset(asset_id) if isinstance(e, _OUTCOMES)]

    def ended(self, *asset_ids: str) -> bool:
        """Whether every one of `asset_ids` has reached a terminal outcome."""
        return all(self.outcomes(a) for a in asset_ids)
