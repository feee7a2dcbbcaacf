"""The live projector: reads the event log into the current generation, batch by batch.

Offsets live in PostgreSQL, next to the views, written in the same transaction: on start and
on every assignment the consumer seeks to them, so a crash between two commits replays at
most the batch that was never committed. Kafka offsets are committed too, after the fact,
only so that lag tooling sees the group's progress.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from shared import topics
from shared.advisory_locks import PROJECTION_SWITCH
from shared.kafka.records import Record
from shared.outages import POSTGRESQL, Outage, outage
from shared.postgres import unreachable
from timeline_projector import generations, store
from timeline_projector.batch import BatchResult, apply_records
from timeline_projector.config import Settings
from timeline_projector.generations import Generation
from timeline_projector.metrics import ProjectorMetrics

log = logging.getLogger(__name__)

RETRYABLE_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
)
"""Failures that another try can get past: the batch is re-read from the stored offsets."""

MAX_RETRY_DELAY_S = 5.0
"""The longest wait between two tries (while the database is away: how soon after it is
back the projector resumes)."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LiveProjector:
    """Consumes the event log in a consumer group and applies it to the current generation."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        metrics: ProjectorMetrics,
        clock: Clock = utc_now,
        database: Outage | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._metrics = metrics
        self._clock = clock
        self._outage = database or outage(POSTGRESQL)
        """PostgreSQL going away and coming back: one warning, reminders, one info line."""
        self._reposition = False
        """Partitions were assigned while the database was away: seek before fetching."""
        self._group = settings.projector.group_id
        self.topic = topics.events(settings.kafka.topic_namespace)
        self._generation: Generation | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.last_poll = time.monotonic()
        self.batches = 0
        self.started = asyncio.Event()
        """Set once the consumer has started (joined its group)."""

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The running consumer, while there is one (for its lag)."""
        return self._consumer

    def healthy(self, max_silence_s: float = 120.0) -> bool:
        """Whether the loop has polled the log recently."""
        return time.monotonic() - self.last_poll < max_silence_s

    async def run(self) -> None:
        """Project until cancelled."""
        kafka = self._settings.kafka
        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=f"{kafka.client_id}-projector",
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._settings.projector.session_timeout_ms,
            heartbeat_interval_ms=max(100, self._settings.projector.session_timeout_ms // 4),
        )
        self._consumer = consumer
        consumer.subscribe([self.topic], listener=_SeekToStoredOffsets(self))
        try:
            await consumer.start()  # inside: a stop while it joins the group must close it
            self.started.set()
            await self._loop(consumer)
        finally:
            await consumer.stop()
            self._consumer = None

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        failures = 0
        batch_size = self._settings.projector.batch_size
        timeout_ms = self._settings.projector.poll_timeout_ms
        while True:
            self.last_poll = time.monotonic()
            try:
                if failures or self._reposition:
                    await self.seek_to_stored(consumer, consumer.assignment())
                    self._reposition = False
                    self._outage.recovered()
                fetched = await consumer.getmany(timeout_ms=timeout_ms, max_records=batch_size)
                records = [Record.of(r) for batch in fetched.values() for r in batch]
                if not records:
                    self._metrics.lag_seconds.set(0)
                    failures = 0
                    continue
                await self._apply(consumer, records)
                self._outage.recovered()
                failures = 0
            except RETRYABLE_DB_ERRORS as exc:
                # The consumer has moved past records that were not applied: the next round
                # seeks back to the stored offsets before fetching again.
                failures += 1
                delay = min(MAX_RETRY_DELAY_S, 0.25 * 2 ** min(failures, 7))
                if unreachable(exc):
                    self._outage.failed(repr(exc))
                else:
                    log.warning(
                        "could not apply a batch; retrying from the stored offsets",
                        extra={"error": repr(exc), "retry_in_s": delay},
                    )
                await asyncio.sleep(delay)

    async def _apply(self, consumer: AIOKafkaConsumer, records: list[Record]) -> None:
        started = time.perf_counter()
        result: BatchResult | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            # A rebuild takes this lock exclusively while it verifies and switches.
            await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", PROJECTION_SWITCH)
            generation = await generations.current(conn)
            if generation is not None and generation == self._generation:
                result = await apply_records(conn, generation.schema, self._group, records)
        if result is None:  # the views moved to another generation: continue from its offsets
            log.info("projection generation changed", extra={"generation": generation})
            await self.seek_to_stored(consumer, consumer.assignment())
            return
        self.batches += 1
        self._observe(result, time.perf_counter() - started)
        await self._commit_to_kafka(consumer, result)

    def _observe(self, result: BatchResult, elapsed_s: float) -> None:
        m = self._metrics
        m.apply_seconds.observe(elapsed_s)
        for event_type, count in result.applied.items():
            m.events_applied.labels(event_type).inc(count)
        if result.rejected:
            m.events_rejected.inc(result.rejected)
        if result.last_event_time is not None:
            lag = (self._clock() - result.last_event_time).total_seconds()
            m.lag_seconds.set(max(0.0, lag))

    async def _commit_to_kafka(self, consumer: AIOKafkaConsumer, result: BatchResult) -> None:
        offsets = {
            TopicPartition(self.topic, partition): OffsetAndMetadata(offset, "")
            for partition, offset in result.next_offsets.items()
        }
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # informational only: PostgreSQL holds the real offsets
            log.info("kafka offset commit skipped", extra={"error": repr(exc)})

    async def seek_to_stored(
        self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
    ) -> None:
        """Position `partitions` at the offsets stored in the current generation."""
        partitions = list(partitions)
        async with self._pool.acquire() as conn:
            generation = await generations.current(conn)
            if generation is None:
                raise RuntimeError("no projection generation: run the migrations first")
            stored = await store.stored_offsets(conn, generation.schema, self._group, self.topic)
        self._generation = generation
        self._metrics.generation.set(generation.number)
        for tp in partitions:
            if tp.partition in stored:
                consumer.seek(tp, stored[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        log.info(
            "positioned at the stored offsets",
            extra={
                "generation": generation.number,
                "offsets": {tp.partition: stored.get(tp.partition) for tp in partitions},
            },
        )


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: LiveProjector) -> None:
        self._projector = projector

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        projector = self._projector
        consumer = projector._consumer
        if consumer is None:
            return
        try:
            await projector.seek_to_stored(consumer, assigned)
        except Exception as exc:
            if not unreachable(exc):
                raise
            projector._outage.failed(repr(exc))
            projector._reposition = True  # the loop seeks once the database is back
