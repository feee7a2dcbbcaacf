"""The one worker runtime: consume a medium's requests and retry tiers, run many attempts at
once, produce what each turn says, and commit only what is done (DESIGN §4, §6).

One consumer (one group) reads the request topic and every tier topic. Fetched records wait
in their partition's `PartitionQueue`; the runtime starts the next ready record, taking one
per partition in turn, while fewer than twice `max_in_flight` turns have yet to finish their
provider call. A turn (`shared.worker.turn`) makes its idempotency claim first and only then
waits for one of the `max_in_flight` slots, which it holds for the provider call alone; so
the next call starts as soon as a slot is free, its claim already made. A turn ends only when
everything it wrote is acknowledged; only then is its offset done, and a partition's offset
is committed up to its first record that is not done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition

from shared import topics
from shared.kafka.consumer import Consumer
from shared.kafka.publisher import Publisher
from shared.kafka.records import Record
from shared.media import MediaKind
from shared.ports import Generator
from shared.retry import RetryPolicy
from shared.worker.commits import Committer
from shared.worker.metrics import WorkerMetrics
from shared.worker.partitions import PartitionQueue
from shared.worker.settings import WorkerSettings
from shared.worker.tiers import Hop, Run
from shared.worker.turn import Turns
from shared.worker.versions import VersionStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_POLL_TIMEOUT_MS = 200


def utc_now() -> datetime:
    return datetime.now(UTC)


class WorkerRuntime:
    """Runs one medium's worker on a consumer (not started) and a publisher."""

    def __init__(
        self,
        *,
        kind: MediaKind,
        generator: Generator,
        store: VersionStore,
        consumer: Consumer,
        publisher: Publisher,
        policy: RetryPolicy,
        settings: WorkerSettings,
        namespace: str = "",
        metrics: WorkerMetrics | None = None,
        clock: Clock = utc_now,
        held: HeldTurns | None = None,
    ) -> None:
        self.kind = kind
        self.metrics = metrics or WorkerMetrics(kind, tiers_ms=policy.tiers_ms)
        self._consumer = consumer
        self._policy = policy
        self._settings = settings
        self._clock = clock
        self._turns = Turns(
            kind=kind,
            namespace=namespace,
            generator=generator,
            store=store,
            publisher=publisher,
            policy=policy,
            metrics=self.metrics,
            clock=clock,
        )
        self._tier_of: dict[str, int | None] = {topics.requests(kind, namespace): None}
        self._tier_of.update({topics.retry_tier(kind, t, namespace): t for t in policy.tiers_ms})
        self._queues: dict[TopicPartition, PartitionQueue] = {}
        self._retired: dict[TopicPartition, PartitionQueue] = {}
        self._in_flight: dict[asyncio.Task[None], PartitionQueue] = {}
        self._released: set[asyncio.Task[None]] = set()
        """Running turns that gave their slot back: they only wait for a webhook, or only
        save and send their outcome."""
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._slot_of: dict[asyncio.Task[None], _TurnSlot] = {}
        self._holding = 0
        """Turns holding a slot now."""
        self._committer = Committer(
            consumer, settings.commit_interval_s, lambda: self._queues, self._fail
        )
        self._stopping = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: datetime | None = None
        self._wake_pending = False
        self._paused: set[TopicPartition] = set()
        """Partitions this runtime paused in the current assignment."""
        self._held = held
        """The running turns held for their provider (`shared.worker.holding`): once they
        take every slot, nothing more is fetched (the rest waits in Kafka); at a rebalance
        they are dropped, not waited for."""
        self._fatal: BaseException | None = None
        self._running = False

    @property
    def topics(self) -> list[str]:
        """Every topic the worker consumes: its request topic and its tiers."""
        return list(self._tier_of)

    @property
    def healthy(self) -> bool:
        """Running, and no turn has failed in a way that needs a restart."""
        return self._running and self._fatal is None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def busy_slots(self) -> int:
        """Slots taken: turns in their provider call (and not only waiting for a webhook)."""
        return self._holding

    @property
    def _ahead(self) -> int:
        """Running turns that have not given a slot back: claiming, waiting for a slot, or
        in their call."""
        return len(self._in_flight) - len(self._released)

    def stop(self) -> None:
        """Stop fetching; `run` lets running turns finish (up to the grace period) and returns."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `stop()`; raise when a turn failed for a reason a restart must fix
        (the broker or the store unreachable), after committing what is done."""
        self._consumer.subscribe(self.topics, listener=_Listener(self))
        await self._consumer.start()
        committer = asyncio.create_task(self._committer.loop(), name="worker-commits")
        self._running = True
        try:
            while not self._stopping.is_set():
                batch = await self._consumer.getmany(
                    timeout_ms=_POLL_TIMEOUT_MS,
                    max_records=self._settings.max_buffered_per_partition,
                )
                for tp, records in batch.items():
                    queue = self._queues.get(tp)
                    if queue is not None:
                        queue.add(Record.of(r) for r in records)
                self._schedule()
            await self._drain()
        finally:
            self._running = False
            self._stopping.set()
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
            self._cancel_timer()
            await self._shutdown()
        if self._fatal is not None:
            raise RuntimeError("a worker turn failed; restart to resume") from self._fatal

    # --- scheduling ---------------------------------------------------------------------

    def _schedule(self) -> None:
        """Start what is ready while there is room, then pause, resume and arm the timer."""
        if self._stopping.is_set():
            return
        now = self._clock()
        queues = list(self._queues.values())
        limit = 2 * self._settings.max_in_flight  # the calls, and as many claims ahead of them
        started = True
        while started and self._ahead < limit:
            started = False
            for queue in queues:  # one record per partition per round: no partition starves
                if self._ahead >= limit:
                    break
                for record, action in queue.take(now, 1):
                    self._start(queue, record, action)
                    started = True
        self._adjust_fetching(now)

    def _start(self, queue: PartitionQueue, record: Record, action: Run | Hop) -> None:
        slot = None if isinstance(action, Hop) else _TurnSlot(self, record)
        task = asyncio.create_task(self._turn(queue, record, action, slot), name=record.position)
        self._in_flight[task] = queue
        if slot is not None:
            self._slot_of[task] = slot
        task.add_done_callback(self._turn_done)

    async def _turn(
        self, queue: PartitionQueue, record: Record, action: Run | Hop, slot: _TurnSlot | None
    ) -> None:
        if isinstance(action, Hop):
            await self._turns.hop(record, action.tier_ms)
        elif slot is not None:  # `_start` gives every Run a slot
            try:
                await self._turns.run(record, slot)
            finally:
                slot.give_back()
        # Everything the turn wrote is acknowledged: its offset may be committed. (A queue
        # that was revoked meanwhile is no longer committed from: the new owner redoes it.)
        queue.offsets.done(record.offset)
        self._committer.wanted()

    def _turn_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._released.discard(task)
        self._slot_of.pop(task, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "worker turn failed; stopping", exc_info=exc, extra={"record": task.get_name()}
            )
            self._fail(exc)
            return
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        """Something a restart must fix went wrong: stop, and let `run` raise it."""
        self._fatal = self._fatal or exc
        self._stopping.set()

    def _wake(self) -> None:
        """Schedule once for every turn that ended in this pass of the event loop."""
        if not self._wake_pending:
            self._wake_pending = True
            asyncio.get_running_loop().call_soon(self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self._schedule()

    @property
    def paused(self) -> frozenset[TopicPartition]:
        """The partitions whose fetching is paused now."""
        return frozenset(self._paused)

    def _adjust_fetching(self, now: datetime) -> None:
        paused = self._paused
        wake: datetime | None = None
        stalled = self._held is not None and self._held.held_total >= self._settings.max_in_flight
        for tp, queue in self._queues.items():
            if stalled or queue.wants_pause(now, self._settings.max_buffered_per_partition):
                if tp not in paused:
                    self._consumer.pause(tp)
                    paused.add(tp)
            elif tp in paused:
                self._consumer.resume(tp)
                paused.discard(tp)
            at = queue.wake_at(now)
            if at is not None and (wake is None or at < wake):
                wake = at
        self._arm_timer(wake, now)

    def _arm_timer(self, wake: datetime | None, now: datetime) -> None:
        if wake is None or (self._timer is not None and self._timer_at == wake):
            return
        self._cancel_timer()
        delay = max(0.0, (wake - now).total_seconds())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
        self._timer_at = wake

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._schedule()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_at = None

    # --- rebalances ---------------------------------------------------------------------

    async def _revoked(self, revoked: Iterable[TopicPartition]) -> None:
        gone = {tp: self._queues.pop(tp) for tp in revoked if tp in self._queues}
        self._paused.difference_update(gone)  # a new assignment starts unpaused
        # Let the revoked partitions' running turns finish and commit them before the group
        # moves on: whoever gets a partition next then skips them instead of calling the
        # provider again. The group waits for this, so the wait is bounded.
        leaving = set(gone.values())
        running = [task for task, queue in self._in_flight.items() if queue in leaving]
        # Turns that have not taken a slot yet (claiming, or waiting for one) call no provider
        # for a partition that is no longer ours: they stop, and their records go back to
        # their partition's buffer, to run from there if the partition comes back unchanged.
        unstarted = [t for t in running if (s := self._slot_of.get(t)) and not s.taken]
        for task in unstarted:
            task.cancel()
            self._in_flight[task].put_back(self._slot_of[task].record)
        if unstarted:
            await asyncio.wait(unstarted)
        running = [task for task in running if task not in unstarted]
        dropped = self._drop_held(running)
        if running:
            _, late = await asyncio.wait(running, timeout=self._settings.rebalance_drain_s)
            if late:
                log.warning(
                    "%d turns still running at a rebalance; their records may run twice",
                    len(late),
                )
        await self._committer.commit(gone)
        # a queue whose turn was dropped has a record nobody runs: it must not be kept
        self._retired = {tp: q for tp, q in gone.items() if q not in dropped}

    def _drop_held(self, running: list[asyncio.Task[None]]) -> set[PartitionQueue]:
        """Cancel the turns of `running` held for their provider (they have called nothing
        that must finish): the next owner runs their records from the committed offset,
        instead of this process waiting out an outage or running them a second time."""
        if self._held is None:
            return set()
        held = [task for task in running if self._held.holds(task)]
        for task in held:
            task.cancel()
        return {self._in_flight[task] for task in held}

    async def _assigned(self, assigned: Iterable[TopicPartition]) -> None:
        retired, self._retired = self._retired, {}
        for tp in assigned:
            tier_ms = self._tier_of.get(tp.topic)
            old = retired.get(tp)
            if old is not None and old.offsets.last_committed == await self._consumer.committed(tp):
                # Ours before and nobody committed since: keep what was fetched and what runs,
                # and fetch on after it instead of fetching (and running) it all again.
                self._queues[tp] = old
                if (next_offset := old.offsets.next_offset) is not None:
                    self._consumer.seek(tp, next_offset)
            else:
                self._queues[tp] = PartitionQueue(tp.topic, tp.partition, tier_ms, self._policy)
        log.info(
            "partitions assigned",
            extra={"partitions": sorted(f"{tp.topic}:{tp.partition}" for tp in assigned)},
        )
        self._schedule()

    # --- shutdown -----------------------------------------------------------------------

    async def _drain(self) -> None:
        """Let running turns finish within the grace period, then cancel the rest."""
        if self._in_flight:
            self._consumer.pause(*self._queues)
            _, pending = await asyncio.wait(
                list(self._in_flight), timeout=self._settings.shutdown_grace_s
            )
            for task in pending:
                task.cancel()
            if pending:
                log.warning("cancelled %d running turns at shutdown", len(pending))
                await asyncio.wait(pending)

    async def _shutdown(self) -> None:
        for task in list(self._in_flight):
            task.cancel()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight))
        await self._committer.commit(self._queues)
        await self._consumer.stop()


class _TurnSlot:
    """One turn's `Slot`: taken after the claim, given back when the call no longer needs the
    provider (or when the turn ends). Once the runtime is stopping, a turn that has not
    started its call yet is cancelled instead: its record is redelivered later."""

    def __init__(self, runtime: WorkerRuntime, record: Record) -> None:
        self._runtime = runtime
        self.record = record
        self._held = False
        self._given_back = False

    @property
    def taken(self) -> bool:
        """Whether the turn got as far as its slot (it may have given it back since)."""
        return self._held or self._given_back

    async def take(self) -> None:
        runtime = self._runtime
        await runtime._slots.acquire()
        self._held = True
        runtime._holding += 1
        if runtime._stopping.is_set():
            self.give_back()
            raise asyncio.CancelledError

    def give_back(self) -> None:
        """Let another turn call the provider; its offset still waits for its outcome, as
        any running turn's does."""
        if self._given_back:
            return
        self._given_back = True
        runtime = self._runtime
        if self._held:
            runtime._slots.release()
            runtime._holding -= 1
        task = asyncio.current_task()
        if task in runtime._in_flight:
            runtime._released.add(task)
        runtime._wake()


class HeldTurns(Protocol):
    """What the runtime asks of `shared.worker.holding.HoldingGenerator`."""

    @property
    def held_total(self) -> int: ...

    def holds(self, task: asyncio.Task[Any]) -> bool: ...


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runtime: WorkerRuntime) -> None:
        self._runtime = runtime

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runtime._revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._runtime._assigned(assigned)
