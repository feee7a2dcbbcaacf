"""Rebuild: replay the whole event log into a new generation, verify it, switch to it.

1. Create generation N+1 (an empty schema with every migration applied).
2. Replay the log from the beginning up to its end offsets at start, batch by batch (rows
   that later batches may change again are written once, at the end, and so are the feed's
   indexes: `held_rows`, `feed_indexes`).
3. Wait until the live projector has applied at least as much, catch up to where it is.
4. In one transaction holding the switch lock (live batches wait for it, briefly): catch up
   the last few events, compare offsets and the checksums of every view table, and, when
   they agree (or `force`), re-point `lecturegen_read` at N+1.

The live projector keeps serving throughout; after the switch its next batch sees the new
generation and continues from the offsets stored there (the same ones it had). A dry run
stops after the comparison and drops the new generation.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.advisory_locks import PROJECTION_REBUILD, PROJECTION_SWITCH
from shared.kafka import make_admin
from shared.kafka.records import Record
from shared.postgres import Connection
from timeline_projector import feed_indexes, generations, store, verify
from timeline_projector.batch import apply_records
from timeline_projector.config import Settings
from timeline_projector.generations import Generation
from timeline_projector.held_rows import HeldRows, HeldRowsError
from timeline_projector.metrics import ProjectorMetrics
from timeline_projector.migrate import create_generation, migrate
from timeline_projector.replay_processes import replay_in_processes
from timeline_projector.sql import META_SCHEMA, NO_SYNC
from timeline_projector.working_set import WorkingSet

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (records replayed, records to replay) after every batch."""


def no_progress(done: int, total: int) -> None:
    return None


class RebuildError(RuntimeError):
    """The rebuild could not run (another one is running, the database is unreachable …)."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    generation: int
    schema: str
    previous_generation: int
    records: int
    """Log records replayed (rejected ones included)."""
    rejected: int
    seconds: float
    """Wall time of the whole rebuild, verification included."""
    replay_seconds: float
    """Time spent reading and applying records."""
    verified: bool
    switched: bool
    dry_run: bool
    differences: tuple[str, ...] = ()
    note: str = ""
    working_set_loads: int = 0
    """Batches that read rows back from the database: the working set outgrew its limit."""

    @property
    def records_per_s(self) -> float:
        """Replay speed: records read and applied per second."""
        return self.records / self.replay_seconds if self.replay_seconds > 0 else 0.0


async def rebuild(
    settings: Settings,
    *,
    dry_run: bool,
    progress: Progress = no_progress,
    force: bool = False,
    metrics: ProjectorMetrics | None = None,
) -> RebuildReport:
    """Replay the log into a new generation, verify it against the live one and switch to it
    (not with `dry_run`; even when verification fails with `force`)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(settings.postgres.dsn)
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PROJECTION_REBUILD):
            raise RebuildError("another rebuild is running")
        try:
            live = await migrate(conn)
            await generations.drop_stale(conn, keep={live.number, *await _latest_retired(conn)})
            new = await _new_generation(conn)
            log.info("rebuild started", extra={"generation": new.number, "dry_run": dry_run})
            replayer = Replayer(settings, conn, new.schema, progress, metrics)
            try:
                await replayer.start()
                try:
                    await replayer.replay_to(await replayer.end_offsets(), hold=True)
                except HeldRowsError:
                    log.warning(
                        "a row held back cannot be stored: replaying again, batch by batch",
                        exc_info=True,
                        extra={"generation": new.number},
                    )
                    await replayer.stop()
                    await generations.drop(conn, new, state="discarded")
                    new = await _new_generation(conn)
                    replayer = Replayer(settings, conn, new.schema, progress, metrics)
                    await replayer.start()
                    await replayer.replay_to(await replayer.end_offsets())
                await replayer.index_feed(conn)
                report = await _verify_and_switch(
                    settings, conn, replayer, live, new, dry_run, force
                )
            finally:
                await replayer.stop()
            await _tidy(conn, report, live, new)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", PROJECTION_REBUILD)
    finally:
        await conn.close()
    report = replace(report, seconds=time.perf_counter() - started)
    log.info("rebuild finished", extra={"report": report})
    return report


async def _new_generation(conn: Connection) -> Generation:
    """An empty generation to replay into, its feed without indexes until the replay needs
    them (`feed_indexes`)."""
    new = await create_generation(conn)
    await feed_indexes.drop(conn, new.schema)
    return new


class Replayer:
    """Reads the log from the beginning (no consumer group) into one generation."""

    def __init__(
        self,
        settings: Settings,
        conn: Connection,
        schema: str,
        progress: Progress,
        metrics: ProjectorMetrics | None,
        *,
        complete: bool = True,
    ) -> None:
        self._settings = settings
        self._conn = conn
        self._schema = schema
        self._progress = progress
        self._metrics = metrics
        self._group = settings.projector.group_id
        self._batch_size = settings.projector.rebuild_batch_size
        self._workers = settings.projector.rebuild_workers
        self._dsn = settings.postgres.dsn
        # The new generation starts empty and only this replayer writes to it until the switch
        # (`complete`; a replay process given partitions to continue is told otherwise).
        self.working_set = WorkingSet(
            complete=complete, max_rows=settings.projector.rebuild_working_set_rows
        )
        self._kafka = settings.kafka
        self.topic = topics.events(settings.kafka.topic_namespace)
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self.beginning: dict[int, int] = {}
        self.position: dict[int, int] = {}
        """Next offset to apply, by partition: the offsets stored in the new generation."""
        self.done = 0
        self.total = 0
        self.rejected = 0
        self.seconds = 0.0
        self._feed_indexed = False

    async def start(self, positions: dict[int, int] | None = None) -> None:
        """Assign every partition of the log at its beginning, or only those of `positions`
        at the offsets given there (a replay process)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=f"{self._kafka.client_id}-rebuild",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self._consumer = consumer
        await consumer.start()
        ids = sorted(positions) if positions is not None else await self._partition_ids()
        self._partitions = [TopicPartition(self.topic, p) for p in ids]
        if not self._partitions:
            return
        consumer.assign(self._partitions)
        beginning = await consumer.beginning_offsets(self._partitions)
        self.beginning = {tp.partition: offset for tp, offset in beginning.items()}
        self.position = dict(self.beginning if positions is None else positions)
        for tp in self._partitions:
            consumer.seek(tp, self.position[tp.partition])

    async def _partition_ids(self) -> list[int]:
        """The log's partitions; none when the topic does not exist (yet)."""
        admin = make_admin(self._kafka)
        try:
            await admin.start()
            (described,) = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        return sorted(p["partition"] for p in described["partitions"])

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def end_offsets(self) -> dict[int, int]:
        if not self._partitions:
            return {}
        assert self._consumer is not None
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def replay_to(
        self,
        targets: dict[int, int],
        *,
        parallel: bool = True,
        processes: bool = True,
        hold: bool = False,
    ) -> None:
        """Apply every record below `targets` (next offsets by partition) not applied yet.

        With `parallel`, partitions are shared among `rebuild_workers` connections, each batch
        its own transaction (partitions hold disjoint lectures, so the workers never touch the
        same rows); and with `processes` too, when at least `rebuild_process_min_records` are
        left, among `rebuild_processes` processes (`replay_processes`). Without, every batch
        goes through this replayer's connection: as its own transaction, or as a savepoint
        when that connection is inside one. With `hold`, rows later batches may change again
        are held back while the working set is complete and written before this returns
        (`held_rows`; `HeldRowsError` when PostgreSQL cannot store one of them).
        """
        targets = {p: max(targets.get(p, 0), self.position[p]) for p in self.position}
        left = sum(targets[p] - self.position[p] for p in targets)
        total = self.done + left
        self.total = total
        self._report()
        started = time.perf_counter()
        config = self._settings.projector
        if (
            parallel
            and processes
            and config.rebuild_processes > 1
            and left >= max(1, config.rebuild_process_min_records)
        ):
            try:
                await self._replay_in_processes(targets, hold)
            finally:
                self.seconds += time.perf_counter() - started
            return
        workers = self._workers if parallel else 1
        conns = [self._conn]
        heap = _LongLivedHeap()
        try:
            conns += [
                await asyncpg.connect(self._dsn, server_settings=NO_SYNC)
                for _ in range(workers - 1)
            ]
            queues: list[asyncio.Queue[list[Record] | None]] = [
                asyncio.Queue(maxsize=1) for _ in conns
            ]
            try:
                async with asyncio.TaskGroup() as group:
                    for conn, queue in zip(conns, queues, strict=True):
                        group.create_task(self._apply_from(queue, conn, heap, hold))
                    group.create_task(self._fetch_into(queues, targets))
            except* HeldRowsError as failed:
                raise failed.exceptions[0] from None  # for the rebuild to replay again
            self.done = total  # offsets without a record (compaction, markers) count as done
            self._report()
        finally:
            heap.release()
            for conn in conns[1:]:
                await conn.close()
            self.seconds += time.perf_counter() - started

    async def _replay_in_processes(self, targets: dict[int, int], hold: bool) -> None:
        first = self.done

        def progress(done: int) -> None:
            self.done = first + done
            self._report()

        spans = {p: (self.position[p], targets[p]) for p in targets}
        untouched = self.working_set.complete and self.position == self.beginning
        shared = await replay_in_processes(
            self._settings, self._schema, spans, complete=untouched, hold=hold, progress=progress
        )
        self.rejected += shared.rejected
        self.done = self.total
        self._report()
        self.position = dict(targets)
        assert self._consumer is not None
        for tp in self._partitions:
            self._consumer.seek(tp, targets[tp.partition])
        # The rows are in the database now, not in this process: read them back from now on.
        self.working_set = WorkingSet(complete=False, max_rows=self.working_set.max_rows)
        self.working_set.loads = shared.working_set_loads

    async def _fetch_into(
        self, queues: list[asyncio.Queue[list[Record] | None]], targets: dict[int, int]
    ) -> None:
        """Read up to `targets`, handing each partition's records, in order, to one worker in
        batches of `rebuild_batch_size` (a fetch brings less: batches are gathered over several,
        since fewer, larger transactions write each row fewer times); then tell every worker
        it is done. (On failure the task group cancels the workers.)"""
        consumer = self._consumer
        shares: list[list[Record]] = [[] for _ in queues]
        while consumer is not None and (pending := self._pending(targets)):
            fetched = await consumer.getmany(*pending, timeout_ms=500, max_records=self._batch_size)
            for tp, batch in fetched.items():
                target = targets[tp.partition]
                kept = [Record.of(r) for r in batch if r.offset < target]
                shares[tp.partition % len(queues)] += kept
                if len(kept) < len(batch):
                    consumer.seek(tp, target)  # read past the target: come back here next time
            for tp in pending:
                position = await consumer.position(tp)
                self.position[tp.partition] = min(position, targets[tp.partition])
            done = not self._pending(targets)
            for i, queue in enumerate(queues):
                if shares[i] and (done or len(shares[i]) >= self._batch_size):
                    await queue.put(shares[i])
                    shares[i] = []
        for queue in queues:
            await queue.put(None)

    async def index_feed(self, conn: Connection) -> None:
        """Make sure the feed of this generation has its indexes (a rebuild drops them from a
        new generation and builds them once, see `feed_indexes`)."""
        if not self._feed_indexed:
            await feed_indexes.restore(conn, self._schema)
            self._feed_indexed = True

    def _pending(self, targets: dict[int, int]) -> list[TopicPartition]:
        return [
            tp for tp in self._partitions if self.position[tp.partition] < targets[tp.partition]
        ]

    async def _apply_from(
        self,
        queue: asyncio.Queue[list[Record] | None],
        conn: Connection,
        heap: _LongLivedHeap,
        hold: bool,
    ) -> None:
        held = HeldRows() if hold else None
        while (records := await queue.get()) is not None:
            if not self.working_set.complete:
                await self.index_feed(conn)  # this batch loads rows, the feed's among them
            async with conn.transaction():
                result = await apply_records(
                    conn,
                    self._schema,
                    self._group,
                    records,
                    notify=False,
                    working_set=self.working_set,
                    held=held,
                )
            heap.settle()
            self.rejected += result.rejected
            self.done += len(records)
            self._report()
        if held:
            async with conn.transaction():
                await held.write(conn, self._schema)

    def _report(self) -> None:
        self._progress(self.done, self.total)
        if self._metrics is not None:
            self._metrics.rebuild_progress.set(self.done / self.total if self.total else 1.0)


class _LongLivedHeap:
    """Keeps the collector of reference cycles from walking the working set again and again.

    A replay only adds to its working set: hundreds of thousands of rows that live until the
    end. Python's cycle collector would walk all of them at every full collection, which
    measured as a fifth of a replay's time. After each batch, `settle` moves every object
    alive into the collector's permanent generation (`gc.freeze`); they are still freed by
    reference counting as usual. `release` gives them back to the collector. A process that
    freezes objects itself (a pre-forking server) is left alone.

    Meanwhile the youngest generation is collected every `YOUNG_THRESHOLD` allocations instead
    of every 700: a batch allocates millions of short-lived objects (rows, events, JSON), nearly
    all freed by reference counting, and keeps a few hundred thousand until it is written. At
    700, then 50,000, those collections walked the batch's objects again and again: about a
    fifth of the replay's CPU, then a tenth (measured on 40,000 to 80,000 events in one process:
    80, then 57, now 51 µs of Python time per event). A million is more than a batch of the
    default size keeps, and `settle` starts the count afresh after each batch, so a young
    collection now runs only within an unusually large batch. Cycles made meanwhile are
    collected when `release` restores the thresholds.
    """

    YOUNG_THRESHOLD = 1_000_000

    def __init__(self) -> None:
        self._active = gc.get_freeze_count() == 0
        self._thresholds = gc.get_threshold()
        if self._active:
            gc.set_threshold(self.YOUNG_THRESHOLD, *self._thresholds[1:])

    def settle(self) -> None:
        if self._active:
            gc.freeze()

    def release(self) -> None:
        if self._active:
            gc.unfreeze()
            gc.set_threshold(*self._thresholds)


async def _verify_and_switch(
    settings: Settings,
    conn: Connection,
    replayer: Replayer,
    live: Generation,
    new: Generation,
    dry_run: bool,
    force: bool,
) -> RebuildReport:
    group, topic = settings.projector.group_id, replayer.topic
    caught_up = await _wait_for_live(
        conn, live, replayer, group, settings.projector.verify_timeout_s
    )
    if caught_up is not None:
        await replayer.replay_to(caught_up)  # most of the way without holding anything
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PROJECTION_SWITCH)
        live_offsets = _with_beginning(
            await store.stored_offsets(conn, live.schema, group, topic), replayer
        )
        if caught_up is not None:
            # the last few, inside this transaction
            await replayer.replay_to(live_offsets, parallel=False)
        same_offsets = live_offsets == replayer.position
        differences = await verify.differences(conn, live.schema, new.schema)
        verified = same_offsets and not differences
        note = _note(same_offsets, caught_up is not None, differences)
        switched = (verified or force) and not dry_run
        if switched:
            await generations.make_current(conn, new)
    return RebuildReport(
        generation=new.number,
        schema=new.schema,
        previous_generation=live.number,
        records=replayer.done,
        rejected=replayer.rejected,
        seconds=0.0,
        replay_seconds=replayer.seconds,
        verified=verified,
        switched=switched,
        dry_run=dry_run,
        differences=tuple(differences),
        note=note,
        working_set_loads=replayer.working_set.loads,
    )


async def _wait_for_live(
    conn: Connection, live: Generation, replayer: Replayer, group: str, timeout_s: float
) -> dict[int, int] | None:
    """The live generation's offsets once they reach the replayed ones, or None on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        offsets = _with_beginning(
            await store.stored_offsets(conn, live.schema, group, replayer.topic), replayer
        )
        if all(offsets[p] >= replayer.position[p] for p in replayer.position):
            return offsets
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.2)


def _with_beginning(offsets: dict[int, int], replayer: Replayer) -> dict[int, int]:
    """Stored offsets for every partition; one never applied counts as at its beginning."""
    return {p: max(offsets.get(p, 0), start) for p, start in replayer.beginning.items()}


def _note(same_offsets: bool, caught_up: bool, differences: list[str]) -> str:
    if not caught_up:
        return "the live projector did not catch up in time: not compared at the same offsets"
    if not same_offsets:
        return "the live projector is ahead of or behind the rebuilt generation"
    if differences:
        return "the rebuilt views differ from the live ones"
    return "identical to the live views"


async def _latest_retired(conn: Connection) -> list[int]:
    number = await conn.fetchval(
        f"SELECT max(generation) FROM {META_SCHEMA}.projection_generations WHERE state = 'retired'"
    )
    return [] if number is None else [int(number)]


async def _tidy(conn: Connection, report: RebuildReport, live: Generation, new: Generation) -> None:
    """Drop what is no longer needed: a dry run's generation; after a switch, all but the
    new and the previous generation. An unverified generation stays for inspection."""
    if report.switched:
        await generations.drop_stale(conn, keep={new.number, live.number})
    elif report.dry_run:
        await generations.drop(conn, new, state="discarded")
    else:
        await generations.set_state(conn, new, "unverified")
