"""`HoldingGenerator` over a scripted generator and a board changed by the test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from shared.errors import GenerationError
from shared.events import HealthWindow, ProviderHealthChanged
from shared.health.board import CircuitBoard
from shared.health.outcomes import CIRCUIT_OPEN
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import (
    GenerationDebug,
    GenerationFailed,
    GenerationResult,
    GenerationSucceeded,
    StoredMedia,
)
from shared.worker.holding import Holding, HoldingGenerator, HoldSettings, register_held_gauge

from .conftest import CommandFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEBUG = GenerationDebug("p", "acme/painter", "replicate")
OK = GenerationSucceeded(MediaKind.IMAGE, StoredMedia("k.png", "image/png", 1), DEBUG)
DOWN = GenerationFailed(
    MediaKind.IMAGE, GenerationError.transient("503", provider="replicate"), DEBUG
)
SETTINGS = HoldSettings(max_outage_s=60, probes_per_model=1, recheck_s=0.01)


class Scripted:
    """Answers each call with the next result; records the calls."""

    def __init__(self, *results: GenerationResult, delay_s: float = 0) -> None:
        self.results = list(results)
        self.calls = 0
        self.running = 0
        self.most_running = 0
        self.delay_s = delay_s

    async def generate(self, attempt: Attempt) -> GenerationResult:
        self.calls += 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        await asyncio.sleep(self.delay_s)
        self.running -= 1
        return self.results.pop(0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def _set(board: CircuitBoard, state: str, since: datetime = T0) -> None:
    """`state` since `since`, in an outage that began at T0."""
    await board.apply(
        ProviderHealthChanged(
            provider="replicate",
            model="acme/painter",
            state=state,
            since=since,
            reason="test",
            window=HealthWindow(attempts=0, failures=0, rate_limited=0),
            unavailable_since=None if state == "closed" else T0,
        )
    )


def _holding(
    inner: Scripted, board: CircuitBoard, clock: Clock | None = None
) -> tuple[HoldingGenerator, list[GenerationError]]:
    notices: list[GenerationError] = []

    async def notify(attempt: Attempt, error: GenerationError, now: datetime, model: str) -> None:
        assert model == "acme/painter"
        notices.append(error)

    holding = Holding(board, SETTINGS, lambda command: command.model or "acme/painter")
    return HoldingGenerator(inner, holding, notify, clock=clock or Clock()), notices


async def test_a_closed_circuit_calls_at_once_and_returns_a_failure_to_the_retry_policy(
    command: CommandFactory,
) -> None:
    inner = Scripted(DOWN)
    gen, notices = _holding(inner, CircuitBoard())

    result = await gen.generate(Attempt(command(), 1))

    assert result is DOWN
    assert (inner.calls, notices) == (1, [])


async def test_an_open_circuit_holds_the_attempt_until_it_closes(command: CommandFactory) -> None:
    board, inner = CircuitBoard(), Scripted(OK)
    await _set(board, "open")
    gen, notices = _holding(inner, board)

    task = asyncio.create_task(gen.generate(Attempt(command(), 2)))
    await asyncio.sleep(0.05)
    assert (inner.calls, len(notices), gen.held) == (0, 1, {"replicate/acme/painter": 1})
    assert notices[0].provider_code == CIRCUIT_OPEN
    await _set(board, "closed")

    assert await task is OK
    assert gen.held == {"replicate/acme/painter": 0}


async def test_a_failure_while_the_circuit_is_open_is_called_again_and_spends_no_retry(
    command: CommandFactory,
) -> None:
    board, inner = CircuitBoard(), Scripted(DOWN, OK)
    await _set(board, "half_open")
    gen, notices = _holding(inner, board)

    task = asyncio.create_task(gen.generate(Attempt(command(), 1)))
    await asyncio.sleep(0.05)
    assert inner.calls == 1  # the probe failed; the attempt is held, not failed
    await _set(board, "closed")

    assert await task is OK
    assert inner.calls == 2
    assert [n.message for n in notices] == ["503"]


async def test_half_open_lets_one_probe_call_at_a_time(command: CommandFactory) -> None:
    board, inner = CircuitBoard(), Scripted(OK, OK, OK, delay_s=0.05)
    await _set(board, "half_open")
    gen, _ = _holding(inner, board)

    results = await asyncio.gather(*(gen.generate(Attempt(command(f"a{i}"), 1)) for i in range(3)))

    assert results == [OK, OK, OK]
    assert inner.most_running == 1


async def test_an_attempt_held_longer_than_the_maximum_outage_ends_failed_and_says_why(
    command: CommandFactory,
) -> None:
    board, inner, clock = CircuitBoard(), Scripted(), Clock()
    await _set(board, "open")
    gen, _ = _holding(inner, board, clock)

    task = asyncio.create_task(gen.generate(Attempt(command(), 1)))
    await asyncio.sleep(0.05)
    clock.now = T0 + timedelta(seconds=61)
    result = await task

    assert not result.ok
    assert (result.error.retryable, result.error.provider_code) == (False, CIRCUIT_OPEN)
    assert "provider was unavailable" in result.error.message
    assert inner.calls == 0


async def test_after_a_failed_probe_no_attempt_of_the_process_probes_until_the_circuit_changes(
    command: CommandFactory,
) -> None:
    board, inner = CircuitBoard(), Scripted(DOWN, OK, OK)
    await _set(board, "half_open")
    gen, _ = _holding(inner, board)

    tasks = [asyncio.create_task(gen.generate(Attempt(command(f"a{i}"), 1))) for i in range(2)]
    await asyncio.sleep(0.1)
    assert inner.calls == 1
    await _set(board, "closed")

    assert await asyncio.gather(*tasks) == [OK, OK]
    assert inner.calls == 3


async def test_the_held_gauge_counts_attempts_held_right_now(command: CommandFactory) -> None:
    board, inner = CircuitBoard(), Scripted(OK)
    await _set(board, "open")
    gen, _ = _holding(inner, board)
    registry = CollectorRegistry()
    register_held_gauge(registry, gen, "image")

    task = asyncio.create_task(gen.generate(Attempt(command(), 1)))
    await asyncio.sleep(0.05)
    assert registry.get_sample_value("lecturegen_worker_held_attempts", {"medium": "image"}) == 1
    await _set(board, "closed")
    await task
    assert registry.get_sample_value("lecturegen_worker_held_attempts", {"medium": "image"}) == 0


async def test_a_second_failure_of_the_same_attempt_while_the_circuit_is_open_spends_a_retry(
    command: CommandFactory,
) -> None:
    board, inner = CircuitBoard(), Scripted(DOWN, DOWN, OK)
    await _set(board, "half_open")
    gen, notices = _holding(inner, board)

    task = asyncio.create_task(gen.generate(Attempt(command(), 1)))
    await asyncio.sleep(0.05)
    assert inner.calls == 1  # the first failure is forgiven: held
    await _set(board, "half_open", T0 + timedelta(seconds=10))  # the job tries probes again
    result = await asyncio.wait_for(task, 1)

    assert inner.calls == 2
    assert not result.ok
    assert result.error.code is DOWN.error.code
    assert result.waiting_since == T0  # the retry carries when the asset began waiting
    assert len(notices) == 1


async def test_the_wait_counts_from_when_the_outage_began_not_from_when_this_process_held_it(
    command: CommandFactory,
) -> None:
    # a worker (re)started 61 s into an outage, given a request written before it began
    board, inner, clock = CircuitBoard(), Scripted(OK), Clock()
    await _set(board, "open")
    clock.now = T0 + timedelta(seconds=61)
    gen, _ = _holding(inner, board, clock)

    result = await gen.generate(Attempt(command(), 1, ready_at=T0 - timedelta(seconds=5)))

    assert not result.ok
    assert result.error.provider_code == CIRCUIT_OPEN
    assert inner.calls == 0


async def test_a_request_due_during_the_outage_waits_from_when_it_was_due(
    command: CommandFactory,
) -> None:
    board, inner, clock = CircuitBoard(), Scripted(OK), Clock()
    await _set(board, "open")
    clock.now = T0 + timedelta(seconds=61)
    gen, _ = _holding(inner, board, clock)

    task = asyncio.create_task(
        gen.generate(Attempt(command(), 1, ready_at=T0 + timedelta(seconds=30)))
    )
    await asyncio.sleep(0.05)
    assert not task.done()  # waited 31 s of 60
    await _set(board, "closed")

    assert await task is OK


async def test_a_retry_carries_on_the_wait_of_the_attempt_before_it(
    command: CommandFactory,
) -> None:
    board, inner, clock = CircuitBoard(), Scripted(OK), Clock()
    await _set(board, "open")
    clock.now = T0 + timedelta(seconds=100)
    gen, _ = _holding(inner, board, clock)
    began = T0 + timedelta(seconds=20)

    attempt = Attempt(command(), 3, ready_at=T0 + timedelta(seconds=95), waiting_since=began)
    result = await gen.generate(attempt)

    assert not result.ok
    assert "did not recover within 80 s" in result.error.message
