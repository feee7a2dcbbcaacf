"""The worker runtime's scheduling, rebalances and commits on an in-memory consumer: the cases
the broker tests reach only slowly, each in well under a second."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition

from shared import headers as h
from shared import topics
from shared.events import GenerateAsset, HealthWindow, ProviderHealthChanged
from shared.health.board import CircuitBoard
from shared.kafka.fakes import InMemoryConsumer
from shared.kafka.records import Outgoing, with_headers
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import GenerationDebug, GenerationResult, GenerationSucceeded, StoredMedia
from shared.retry import RetryPolicy
from shared.testing.waiting import until
from shared.worker.fakes import InMemoryPublisher
from shared.worker.holding import Holding, HoldingGenerator, HoldSettings, waiting_notice
from shared.worker.runtime import WorkerRuntime
from shared.worker.settings import WorkerSettings
from shared.worker.testing import command_record, running
from shared.worker.versions import InMemoryVersionStore

REQUESTS = topics.requests(MediaKind.IMAGE)
POLICY = RetryPolicy(max_retries=1, base_delay_s=0.3, max_tier_s=0.3)
TIER = topics.retry_tier(MediaKind.IMAGE, POLICY.tiers_ms[0])
REQUESTS_0 = TopicPartition(REQUESTS, 0)
TIER_0 = TopicPartition(TIER, 0)

pytestmark = pytest.mark.timeout(5)


class GatedGenerator:
    """A `Generator` whose attempts, per prompt, wait until the test opens their gate."""

    def __init__(self) -> None:
        self.gates: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.started: list[tuple[str, datetime]] = []

    def open(self, *prompts: str) -> None:
        for prompt in prompts:
            self.gates[prompt].set()

    def calls(self, prompt: str) -> int:
        return sum(1 for p, _ in self.started if p == prompt)

    async def generate(self, attempt: Attempt) -> GenerationResult:
        prompt = attempt.command.prompt
        self.started.append((prompt, datetime.now(UTC)))
        await self.gates[prompt].wait()
        return GenerationSucceeded(
            kind=MediaKind.IMAGE,
            media=StoredMedia(blob_key=f"k/{prompt}", content_type="image/png", size_bytes=1),
            debug=GenerationDebug(prompt=prompt, model="m", provider="gated"),
        )


def _command(n: int) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"c{n}",
        lecture_id="l1",
        asset_id=f"a{n}",
        kind=MediaKind.IMAGE,
        segment_id="s1",
        prompt_version=1,
        prompt=f"p{n}",
        model="m",
        requested_at=datetime.now(UTC),
        correlation_id=f"corr{n}",
    )


@pytest.fixture
def consumer() -> InMemoryConsumer:
    return InMemoryConsumer({REQUESTS: 1, TIER: 1})


@pytest.fixture
def generator() -> GatedGenerator:
    return GatedGenerator()


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


def _runtime(
    consumer: InMemoryConsumer,
    generator: GatedGenerator,
    publisher: InMemoryPublisher,
    store: InMemoryVersionStore | None = None,
    **settings: float,
) -> WorkerRuntime:
    return WorkerRuntime(
        kind=MediaKind.IMAGE,
        generator=generator,
        store=store or InMemoryVersionStore(),
        consumer=consumer,
        publisher=publisher,
        policy=POLICY,
        settings=WorkerSettings(commit_interval_s=0, **settings),  # type: ignore[arg-type]
    )


@pytest.fixture
async def runtime(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> AsyncIterator[WorkerRuntime]:
    runtime = _runtime(consumer, generator, publisher, rebalance_drain_s=5)
    async with running(runtime, stop_within_s=2):  # raises what made the runtime fail
        yield runtime


def _committed(consumer: InMemoryConsumer, tp: TopicPartition) -> list[int]:
    return [offsets[tp] for offsets in consumer.commits if tp in offsets]


async def test_a_partition_is_committed_only_up_to_its_first_unfinished_record(
    consumer: InMemoryConsumer, generator: GatedGenerator, runtime: WorkerRuntime
) -> None:
    for n in range(3):
        consumer.append(command_record(_command(n)), at=datetime.now(UTC))
    await until(lambda: len(generator.started) == 3)

    generator.open("p1", "p2")  # the records after the first finish first
    await until(lambda: runtime.in_flight == 1)
    await asyncio.sleep(0.02)  # room for a wrong commit to happen
    assert max(_committed(consumer, REQUESTS_0), default=0) == 0

    generator.open("p0")
    await until(lambda: consumer.committed_offset(REQUESTS_0) == 3)


async def test_a_turn_running_when_its_partition_is_revoked_is_finished_and_committed_first(
    consumer: InMemoryConsumer, generator: GatedGenerator, runtime: WorkerRuntime
) -> None:
    consumer.append(command_record(_command(0)), at=datetime.now(UTC))
    await until(lambda: generator.calls("p0") == 1)

    consumer.rebalance([TIER_0])  # the request partition goes to another worker
    await asyncio.sleep(0.05)
    assert consumer.committed_offset(REQUESTS_0) in (None, 0)  # the revocation waits
    generator.open("p0")
    await until(lambda: consumer.assignment == {TIER_0})
    assert consumer.committed_offset(REQUESTS_0) == 1  # before the group moved on

    consumer.rebalance([REQUESTS_0, TIER_0])  # and back: nothing to redo
    await until(lambda: REQUESTS_0 in consumer.assignment)
    await asyncio.sleep(0.05)
    assert generator.calls("p0") == 1


async def test_a_partition_given_back_unchanged_keeps_its_running_turn_instead_of_rerunning_it(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    runtime = _runtime(consumer, generator, publisher, rebalance_drain_s=0.01)
    async with running(runtime, stop_within_s=2):
        consumer.append(command_record(_command(0)), at=datetime.now(UTC))
        await until(lambda: generator.calls("p0") == 1)

        # revoked while the call runs past the drain time, then assigned straight back
        consumer.rebalance([REQUESTS_0, TIER_0])
        await asyncio.sleep(0.05)
        consumer.append(command_record(_command(1)), at=datetime.now(UTC))
        await until(lambda: generator.calls("p1") == 1)
        generator.open("p0", "p1")
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 2)

    assert generator.calls("p0") == 1


def _retry_record(command: GenerateAsset, due_at: datetime) -> Outgoing:
    record = command_record(command)
    headers = with_headers(
        record.headers,
        {h.ATTEMPT: "2", h.DUE_AT: due_at.isoformat(), h.TIER_MS: str(POLICY.tiers_ms[0])},
    )
    return Outgoing(TIER, record.key, record.value, headers)


async def test_a_tier_partition_is_paused_until_its_head_is_due_then_resumed(
    consumer: InMemoryConsumer, generator: GatedGenerator, runtime: WorkerRuntime
) -> None:
    generator.open("p0")
    written = datetime.now(UTC)
    due = written + timedelta(milliseconds=POLICY.tiers_ms[0])
    consumer.append(_retry_record(_command(0), due), at=written)

    await until(lambda: TIER_0 in consumer.paused)
    assert generator.started == []  # not due: it waits, and nothing more is fetched

    await until(lambda: generator.calls("p0") == 1)
    assert generator.started[0][1] >= due.replace(microsecond=due.microsecond // 1000 * 1000)
    await until(lambda: consumer.committed_offset(TIER_0) == 1)
    assert TIER_0 not in consumer.paused  # fetching again once the head is gone


async def test_a_request_partition_is_paused_while_its_buffer_is_full(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    runtime = _runtime(
        consumer, generator, publisher, max_in_flight=1, max_buffered_per_partition=2
    )
    async with running(runtime, stop_within_s=2):
        for n in range(4):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))
        await until(lambda: REQUESTS_0 in consumer.paused)
        assert len(generator.started) == 1  # one slot: the rest wait in the buffer

        generator.open("p0", "p1", "p2", "p3")
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 4)
        assert REQUESTS_0 not in consumer.paused


class AckHoldingPublisher(InMemoryPublisher):
    """Keeps records, but the broker acknowledges none of them until `release()`."""

    def __init__(self) -> None:
        super().__init__()
        self._acks = asyncio.Event()

    def release(self) -> None:
        self._acks.set()

    async def enqueue(self, records: list[Outgoing]) -> asyncio.Future[object]:
        await super().enqueue(records)
        return asyncio.ensure_future(self._acks.wait())


async def test_a_turn_whose_call_returned_gives_its_slot_to_the_next_record_while_it_sends(
    consumer: InMemoryConsumer, generator: GatedGenerator
) -> None:
    publisher = AckHoldingPublisher()
    runtime = _runtime(consumer, generator, publisher, max_in_flight=1)
    async with running(runtime, stop_within_s=2):
        generator.open("p0", "p1")
        for n in range(2):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))

        # both calls ran on the one slot although neither outcome is acknowledged yet
        await until(lambda: generator.calls("p1") == 1)
        assert runtime.in_flight == 2
        assert runtime.busy_slots == 0
        assert consumer.committed_offset(REQUESTS_0) in (None, 0)

        publisher.release()
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 2)


async def test_the_next_record_is_claimed_while_the_slots_are_busy_and_called_when_one_frees(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    store = InMemoryVersionStore()
    runtime = _runtime(consumer, generator, publisher, store, max_in_flight=1)
    async with running(runtime, stop_within_s=2):
        for n in range(2):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))
        await until(lambda: generator.calls("p0") == 1)

        await until(lambda: (MediaKind.IMAGE, "a1") in store.rows)  # claimed ahead
        assert generator.calls("p1") == 0
        assert runtime.busy_slots == 1

        generator.open("p0", "p1")
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 2)
    assert generator.calls("p1") == 1


async def test_a_stopping_runtime_does_not_start_the_call_of_a_turn_still_waiting_for_a_slot(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    store = InMemoryVersionStore()
    runtime = _runtime(consumer, generator, publisher, store, max_in_flight=1)
    async with running(runtime, stop_within_s=2):
        for n in range(2):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))
        await until(lambda: (MediaKind.IMAGE, "a1") in store.rows)

        runtime.stop()
        generator.open("p0", "p1")
        await until(lambda: runtime.in_flight == 0)

    assert generator.calls("p1") == 0
    assert consumer.committed_offset(REQUESTS_0) == 1  # the second record is redelivered


async def test_a_turn_still_waiting_for_a_slot_when_its_partition_is_revoked_calls_nothing(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    store = InMemoryVersionStore()
    runtime = _runtime(consumer, generator, publisher, store, max_in_flight=1, rebalance_drain_s=5)
    async with running(runtime, stop_within_s=2):
        for n in range(2):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))
        await until(lambda: (MediaKind.IMAGE, "a1") in store.rows)  # claimed, waiting

        consumer.rebalance([TIER_0])  # the request partition goes to another worker
        await asyncio.sleep(0.05)
        generator.open("p0", "p1")
        await until(lambda: consumer.assignment == {TIER_0})
        await asyncio.sleep(0.05)

        assert generator.calls("p1") == 0  # the new owner runs it
        assert consumer.committed_offset(REQUESTS_0) == 1


async def test_a_turn_put_back_at_a_revocation_runs_once_when_the_partition_comes_back_unchanged(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    store = InMemoryVersionStore()
    runtime = _runtime(
        consumer, generator, publisher, store, max_in_flight=1, rebalance_drain_s=0.01
    )
    async with running(runtime, stop_within_s=2):
        for n in range(2):
            consumer.append(command_record(_command(n)), at=datetime.now(UTC))
        await until(lambda: (MediaKind.IMAGE, "a1") in store.rows)

        consumer.rebalance([REQUESTS_0, TIER_0])  # revoked and assigned straight back
        await asyncio.sleep(0.05)
        generator.open("p0", "p1")
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 2)

    assert generator.calls("p0") == 1
    assert generator.calls("p1") == 1


async def test_a_turn_held_for_its_provider_is_dropped_at_a_rebalance_and_run_by_the_next_owner(
    consumer: InMemoryConsumer, generator: GatedGenerator, publisher: InMemoryPublisher
) -> None:
    board = CircuitBoard()
    await board.apply(_health("open"))
    notice = waiting_notice(publisher, topics.events(), "lecturegen/image-worker")
    holding = HoldingGenerator(generator, Holding(board, HoldSettings(recheck_s=0.05)), notice)
    runtime = WorkerRuntime(
        kind=MediaKind.IMAGE,
        generator=holding,
        store=InMemoryVersionStore(),
        consumer=consumer,
        publisher=publisher,
        policy=POLICY,
        settings=WorkerSettings(commit_interval_s=0, rebalance_drain_s=4),
        held=holding,
    )
    async with running(runtime, stop_within_s=2):
        consumer.append(command_record(_command(0)), at=datetime.now(UTC))
        await until(lambda: holding.held_total == 1)

        consumer.rebalance([TIER_0])  # not waited for: an outage may last half an hour
        await until(lambda: consumer.assignment == {TIER_0}, within_s=1)
        assert holding.held_total == 0
        assert consumer.committed_offset(REQUESTS_0) in (None, 0)  # it is redone, not lost

        consumer.rebalance([REQUESTS_0, TIER_0])  # back here, as the next owner
        await board.apply(_health("closed"))
        generator.open("p0")
        await until(lambda: consumer.committed_offset(REQUESTS_0) == 1)
    assert generator.calls("p0") == 1


def _health(state: str) -> ProviderHealthChanged:
    return ProviderHealthChanged(
        provider="replicate",
        model="m",
        state=state,
        since=datetime.now(UTC),
        reason="test",
        window=HealthWindow(attempts=0, failures=0, rate_limited=0),
    )
