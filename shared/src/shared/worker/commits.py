"""Offset commits of a worker: each partition up to its first record that is not done."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka.consumer import Consumer
from shared.worker.partitions import PartitionQueue

log = logging.getLogger(__name__)

Queues = dict[TopicPartition, PartitionQueue]


class Committer:
    """Commits when asked (`wanted`), at most once every `interval_s`, one commit at a time."""

    def __init__(
        self,
        consumer: Consumer,
        interval_s: float,
        assigned: Callable[[], Queues],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self._consumer = consumer
        self._interval_s = interval_s
        self._assigned = assigned
        self._on_failure = on_failure
        self._lock = asyncio.Lock()
        self._wanted = asyncio.Event()

    def wanted(self) -> None:
        """Some offset is done: commit soon."""
        self._wanted.set()

    async def loop(self) -> None:
        """Commit the assigned partitions whenever wanted, until cancelled."""
        try:
            while True:
                await self._wanted.wait()
                self._wanted.clear()
                await self.commit(self._assigned())
                await asyncio.sleep(self._interval_s)
        except Exception as exc:  # without commits the worker would redo all its work later
            log.exception("offset commits failed")
            self._on_failure(exc)

    async def commit(self, queues: Queues) -> None:
        """Commit every queue's watermark that moved; a failed commit is retried next time."""
        async with self._lock:
            # a snapshot: a rebalance may change `queues` while the commit is under way
            marks = [
                (tp, queue, mark)
                for tp, queue in list(queues.items())
                if (mark := queue.offsets.to_commit()) is not None
            ]
            if not marks:
                return
            try:
                await self._consumer.commit({tp: mark for tp, _, mark in marks})
            except KafkaError as exc:  # a rebalance is under way: the listener commits
                log.warning("offset commit failed: %r", exc)
                return
            for _, queue, mark in marks:
                queue.offsets.committed(mark)
