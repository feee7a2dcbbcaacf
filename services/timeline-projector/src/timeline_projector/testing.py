"""A projection under test: a private event log, consumer group and database.

Used by the projector's integration tests and by end-to-end tests that need to write events
and wait for the views to show them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.envelope import Envelope, encode
from shared.events import AssetEvent, LectureCreated
from shared.kafka import TopicSpec, create_topics, make_producer
from shared.kafka.records import Outgoing, Record
from shared.read_model.tables import ASSETS, ATTEMPTS, FEED, LECTURES, SEGMENTS, Table
from shared.settings import KafkaSettings, PostgresSettings
from timeline_projector import generations, store
from timeline_projector.batch_state import BatchState
from timeline_projector.config import ProjectorSettings, Settings
from timeline_projector.consumer import LiveProjector
from timeline_projector.metrics import ProjectorMetrics
from timeline_projector.migrate import migrate
from timeline_projector.verify import TableSum, checksums

PARTITIONS = 3


def lecture_key(envelope: Envelope) -> bytes:
    payload = envelope.payload
    assert isinstance(payload, LectureCreated | AssetEvent)
    return payload.lecture_id.encode()


class Projection:
    """Writes events to a private event log and runs projectors over a private database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = topics.events(settings.kafka.topic_namespace)
        self.ends: dict[int, int] = {}
        """Next offset after the last produced record, by partition."""

    async def create_topic(self, partitions: int = PARTITIONS) -> None:
        await create_topics(self.settings.kafka, [TopicSpec(self.topic, partitions)])

    async def produce(self, items: Iterable[Envelope | Outgoing]) -> None:
        """Write `items` in order (events keyed by lecture; an `Outgoing` as it is, for records
        that are not valid events), waiting only once at the end."""
        producer = make_producer(self.settings.kafka, linger_ms=20)
        try:
            await producer.start()
            pending = []
            for item in items:
                if isinstance(item, Outgoing):
                    value, headers, key = item.value, item.headers, item.key
                else:
                    value, headers = encode(item)
                    key = lecture_key(item)
                pending.append(
                    await producer.send(self.topic, value=value, key=key, headers=headers)
                )
            for meta in await asyncio.gather(*pending):
                self.ends[meta.partition] = max(self.ends.get(meta.partition, 0), meta.offset + 1)
        finally:
            await producer.stop()

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.settings.postgres.dsn)

    @contextlib.asynccontextmanager
    async def running(
        self, metrics: ProjectorMetrics | None = None
    ) -> AsyncIterator[LiveProjector]:
        """A live projector task, cancelled on exit (nothing is committed past its last batch)."""
        pool = await asyncpg.create_pool(self.settings.postgres.dsn, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            projector = LiveProjector(self.settings, pool, metrics or ProjectorMetrics())
            task = asyncio.create_task(projector.run())
            try:
                yield projector
            finally:
                # Cancelled only once its consumer has started (or its task has ended):
                # aiokafka drops the connection it bootstraps through, unclosed, when cancelled
                # there (a ResourceWarning later, in whichever test runs then).
                started = asyncio.create_task(projector.started.wait())
                await asyncio.wait({task, started}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
                started.cancel()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await pool.close()

    async def applied_offsets(self) -> dict[int, int]:
        conn = await self.connect()
        try:
            generation = await generations.current(conn)
            if generation is None:
                return {}
            return await store.stored_offsets(
                conn, generation.schema, self.settings.projector.group_id, self.topic
            )
        except asyncpg.UndefinedTableError:
            return {}
        finally:
            await conn.close()

    async def wait_until(self, reached: dict[int, int], timeout_s: float = 60) -> None:
        """Until the current generation has applied every offset below `reached`."""
        deadline = time.monotonic() + timeout_s
        while True:
            applied = await self.applied_offsets()
            if all(applied.get(p, 0) >= offset for p, offset in reached.items()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"applied {applied}, wanted {reached}")
            await asyncio.sleep(0.05)

    async def wait_caught_up(self, timeout_s: float = 60) -> None:
        await self.wait_until(self.ends, timeout_s)

    async def checksums(self) -> dict[str, TableSum]:
        conn = await self.connect()
        try:
            generation = await generations.current(conn)
            assert generation is not None
            return await checksums(conn, generation.schema)
        finally:
            await conn.close()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.connect()
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def read_back(self, partitions: Sequence[int] | None = None) -> list[Record]:
        """Every record of the event log, in partition and offset order."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
            tps = [TopicPartition(self.topic, p) for p in (partitions or sorted(self.ends))]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            records: list[Record] = []
            want = sum(self.ends[tp.partition] for tp in tps)
            while len(records) < want:
                fetched = await consumer.getmany(timeout_ms=1000)
                records += [Record.of(r) for batch in fetched.values() for r in batch]
            return sorted(records, key=lambda r: (r.partition, r.offset))
        finally:
            await consumer.stop()


ROW_TABLES = (LECTURES, SEGMENTS, ASSETS, ATTEMPTS, FEED)


def _keyed(table: Table[Any], rows: Iterable[Any]) -> dict[tuple[Any, ...], Any]:
    return {tuple(getattr(row, name) for name in table.key): row for row in rows}


async def stored_rows(conn: asyncpg.Connection, schema: str) -> dict[str, dict[Any, Any]]:
    """Every row of the view tables of `schema`, by table and primary key."""
    return {
        table.name: _keyed(table, await store.select_all(conn, schema, table))
        for table in ROW_TABLES
    }


def expected_rows(envelopes: Iterable[Envelope]) -> dict[str, dict[Any, Any]]:
    """The rows the reducers give for `envelopes` folded in order, shaped as `stored_rows`."""
    state = BatchState()
    for envelope in envelopes:
        state.fold(envelope)
    w = state.writes
    rows: dict[str, Iterable[Any]] = {
        "lectures": w.lectures.values(),
        "segments": w.segments.values(),
        "assets": w.assets.values(),
        "asset_attempts": w.attempts.values(),
        "lecture_event_feed": w.feed,
    }
    return {table.name: _keyed(table, rows[table.name]) for table in ROW_TABLES}


def make_settings(kafka_bootstrap: str, dsn: str, name: str, **projector: Any) -> Settings:
    """Settings private to one test: topic namespace, consumer group and database."""
    options: dict[str, Any] = {
        "group_id": f"projector-{name}",
        "metrics_port": 0,
        "batch_size": 200,
        "poll_timeout_ms": 100,
        "rebuild_batch_size": 500,
        "verify_timeout_s": 60,
    }
    options.update(projector)
    return Settings(
        KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{name}."),
        PostgresSettings(dsn=dsn),
        ProjectorSettings(**options),
    )
