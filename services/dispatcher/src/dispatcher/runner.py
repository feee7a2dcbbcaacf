"""The dispatcher loop: read a batch of events in order, produce their commands, wait for
every acknowledgement, then commit the batch. At-least-once and ordered per lecture; a
repeated batch repeats byte-identical commands, which the workers recognise."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from prometheus_client import CollectorRegistry, Counter

from dispatcher.commands import WANTED_TYPES, command_record, commands_for
from shared import topics
from shared.envelope import decode
from shared.events import PayloadError
from shared.kafka.consumer import Consumer, Fetched
from shared.kafka.publisher import Publisher, publish
from shared.kafka.records import Outgoing, Record
from shared.media import MediaKind

log = logging.getLogger(__name__)

_POLL_TIMEOUT_MS = 200


class DispatcherMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.commands = Counter(
            "lecturegen_dispatcher_commands_total",
            "GenerateAsset commands produced, by medium.",
            ["medium"],
            registry=self.registry,
        )
        self.events = Counter(
            "lecturegen_dispatcher_events_total",
            "Events read: dispatched (lecture.created, asset.regeneration-requested) or skipped.",
            ["result"],
            registry=self.registry,
        )
        for medium in MediaKind:  # every series at zero from start-up, for rates and alerts
            self.commands.labels(medium.value)
        for result in ("dispatched", "skipped", "rejected"):
            self.events.labels(result)


class Dispatcher:
    """Runs on a consumer (not started) and a publisher over a started producer."""

    def __init__(
        self,
        consumer: Consumer,
        publisher: Publisher,
        *,
        namespace: str = "",
        max_batch: int = 500,
        metrics: DispatcherMetrics | None = None,
    ) -> None:
        self._consumer = consumer
        self._publisher = publisher
        self._namespace = namespace
        self._max_batch = max_batch
        self.metrics = metrics or DispatcherMetrics()
        self._stopping = asyncio.Event()
        self._running = False

    @property
    def healthy(self) -> bool:
        return self._running

    def stop(self) -> None:
        """Finish the batch at hand, commit it, and return from `run`."""
        self._stopping.set()

    async def run(self) -> None:
        self._consumer.subscribe([topics.events(self._namespace)])
        try:
            await self._consumer.start()
            self._running = True
            while not self._stopping.is_set():
                batch = await self._consumer.getmany(
                    timeout_ms=_POLL_TIMEOUT_MS, max_records=self._max_batch
                )
                if batch:
                    await self._dispatch(batch)
        finally:
            self._running = False
            await self._consumer.stop()

    async def _dispatch(self, batch: Fetched) -> None:
        outgoing: list[Outgoing] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            for record in records:
                outgoing += self._commands_of(Record.of(record))
            offsets[tp] = records[-1].offset + 1
        if outgoing:
            await publish(self._publisher, outgoing)  # every command acked before the commit
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced: the new owner dispatches these events again, and the
            # workers skip the commands they already have.
            log.warning("commit failed after a rebalance: %r", exc)

    def _commands_of(self, record: Record) -> list[Outgoing]:
        if record.header("ce_type") not in WANTED_TYPES:
            self.metrics.events.labels("skipped").inc()
            return []
        try:
            event = decode(record.value, record.headers)
        except PayloadError as exc:
            # The event log is the source of truth and cannot be rewritten: report and move on.
            self.metrics.events.labels("rejected").inc()
            log.error(
                "undecodable event skipped",
                extra={
                    "reason": exc.reason,
                    "record": record.position,
                },
            )
            return []
        commands = commands_for(event)
        self.metrics.events.labels("dispatched").inc()
        for command in commands:
            self.metrics.commands.labels(command.kind.value).inc()
        out = [command_record(command, event, self._namespace) for command in commands]
        log.info(
            "dispatched %d command(s)",
            len(out),
            extra={"event_id": event.id, "correlation_id": event.correlation_id},
        )
        return out
