"""`CompletionFeed`: every record of `lecturegen.provider.predictions.v1`, read as it is
written, posted to a `CompletionBoard`.

Each worker process reads the whole topic outside any consumer group (whichever process
created a prediction must see its completion) from the end it finds at start: a completion
written while no process waited is found by the read an attempt makes when it resumes the
prediction. Records that are not a JSON object are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.webhooks.completions import CompletionBoard

log = logging.getLogger(__name__)
_FETCH_TIMEOUT_MS = 500
_METADATA_WAIT_S = 30.0
_RETRY_S = 1.0


class CompletionFeed:
    """Reads one topic into a board until stopped; `start` returns once it reads from the end."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str, board: CompletionBoard) -> None:
        self._consumer = consumer
        self._topic = topic
        self._board = board
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer.subscribe([self._topic])  # outside a group: every partition is ours
        await self._consumer.start()
        assigned = await self._assignment()
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the end now, so nothing written from here on is missed
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._read(), name="webhook-completions")

    async def _assignment(self) -> list[TopicPartition]:
        """The topic's partitions, once the consumer has them (a new topic takes a moment)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _METADATA_WAIT_S
        while not (assigned := self._consumer.assignment()):
            if loop.time() > deadline:
                raise RuntimeError(f"topic {self._topic!r} has no partitions (does it exist?)")
            await asyncio.sleep(0.1)
        return sorted(assigned)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=_FETCH_TIMEOUT_MS)
            except KafkaError as exc:
                # Meanwhile waits end by their fallback reads; keep trying, never stop reading.
                log.warning("cannot read webhook completions: %r", exc)
                await asyncio.sleep(_RETRY_S)
                continue
            for records in batch.values():
                for record in records:
                    self._post(record.value)

    def _post(self, value: bytes | None) -> None:
        try:
            prediction = json.loads(value or b"")
        except ValueError:
            prediction = None
        if not isinstance(prediction, dict) or not self._board.post(prediction):
            log.warning("skipped a prediction record that is not a completed prediction")
