"""Whole turns with in-memory ports: records in, records out, provider calls counted.

Retry records written by one turn are read back and fed to the next, so the chain of a
request through its tiers is followed end to end without a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared import headers as h
from shared import topics
from shared.envelope import decode, encode, envelop
from shared.errors import GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetRetrying,
    LectureCreated,
    Payload,
)
from shared.kafka.records import Headers, Record, header
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import GenerationFailed, GenerationResult
from shared.retry import RetryPolicy
from shared.worker.fakes import InMemoryGenerator, InMemoryPublisher, ProcessKilled
from shared.worker.metrics import WorkerMetrics
from shared.worker.turn import Turns
from shared.worker.versions import Claim, InMemoryVersionStore, Settlement

from .conftest import CommandFactory, RecordFactory

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
EVENTS = topics.events()
DLT = topics.dead_letter(MediaKind.IMAGE)


def _turns(generator: object, sender: InMemoryPublisher, store: InMemoryVersionStore) -> Turns:
    return Turns(
        kind=MediaKind.IMAGE,
        namespace="",
        generator=generator,  # type: ignore[arg-type]
        store=store,
        publisher=sender,
        policy=RetryPolicy(),
        metrics=WorkerMetrics(MediaKind.IMAGE),
        clock=lambda: NOW,
    )


def _events(sender: InMemoryPublisher) -> list[Payload]:
    return [decode(o.value, o.headers).payload for o in sender.to(EVENTS)]


async def _chain(generator: object, first: Record, read_back: RecordFactory) -> InMemoryPublisher:
    """Run `first`, then every retry record it leads to, as a tier consumer would."""
    sender = InMemoryPublisher()
    turns = _turns(generator, sender, InMemoryVersionStore())
    record, offset = first, 100
    while True:
        before = len(sender.sent)
        await turns.run(record)
        retries = [o for o in sender.sent[before:] if ".retry." in o.topic]
        if not retries:
            return sender
        record = read_back(retries[0], offset=offset)
        offset += 1


async def test_two_transient_failures_end_generated_after_exactly_three_calls(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    error = GenerationError.transient("E6716")
    generator = InMemoryGenerator(MediaKind.IMAGE, {"flaky": [error, error]})
    first = request_record(command(prompt="flaky"))

    sender = await _chain(generator, first, read_back)

    assert generator.calls_for("flaky") == 3
    assert [a.number for a in generator.calls] == [1, 2, 3]
    kinds = [type(e) for e in _events(sender)]
    assert kinds == [
        AssetAttemptStarted,
        AssetRetrying,
        AssetAttemptStarted,
        AssetRetrying,
        AssetAttemptStarted,
        AssetGenerated,
    ]
    generated = _events(sender)[-1]
    assert isinstance(generated, AssetGenerated)
    assert (generated.attempts, generated.retried_count) == (3, 2)
    tiers = [o.topic for o in sender.sent if ".retry." in o.topic]
    assert tiers == [
        topics.retry_tier(MediaKind.IMAGE, 5000),
        topics.retry_tier(MediaKind.IMAGE, 10000),
    ]


async def test_a_rejected_prompt_is_sent_once_and_ends_needing_a_prompt_update(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    generator = InMemoryGenerator(
        MediaKind.IMAGE, {"bad": [GenerationError.sensitive_content("flagged (E005)")]}
    )
    first = request_record(command(prompt="bad"))

    sender = await _chain(generator, first, read_back)

    assert generator.calls_for("bad") == 1
    assert isinstance(_events(sender)[-1], AssetNeedsPromptUpdate)
    assert not [o for o in sender.sent if ".retry." in o.topic or o.topic == DLT]


async def test_retries_run_out_after_four_calls_with_a_failed_event_and_a_dead_letter(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    error = GenerationError.transient("E6716")
    generator = InMemoryGenerator(MediaKind.IMAGE, {"doomed": [error] * 9})
    first = request_record(command(prompt="doomed"))

    sender = await _chain(generator, first, read_back)

    assert generator.calls_for("doomed") == 4
    failed = _events(sender)[-1]
    assert isinstance(failed, AssetFailed)
    assert failed.retried_count == 3
    (dead,) = sender.to(DLT)
    assert header(dead.headers, h.DLT_REASON) == "exhausted"


async def test_a_redelivered_request_whose_version_ended_calls_no_provider(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE)
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    turns = _turns(generator, sender, store)
    cmd = command()

    await turns.run(request_record(cmd, offset=1))
    await turns.run(request_record(cmd, offset=1))  # the same record again (commit was lost)
    await turns.run(request_record(cmd, offset=9))  # the command dispatched twice

    assert len(generator.calls) == 1
    assert [type(e) for e in _events(sender)] == [AssetAttemptStarted, AssetGenerated]


async def test_a_request_of_an_older_prompt_version_is_dropped_as_superseded(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE)
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    turns = _turns(generator, sender, store)

    await turns.run(request_record(command(prompt="v2", prompt_version=2), offset=5))
    await turns.run(request_record(command(prompt="v1", prompt_version=1), offset=1))

    assert [a.command.prompt for a in generator.calls] == ["v2"]


async def test_outcome_records_saved_before_a_failed_send_are_resent_without_a_new_call(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE)
    # enqueue 1 announces the attempt, 2 carries the outcome: the broker is gone by then
    sender, store = InMemoryPublisher({2: ConnectionError("broker gone")}), InMemoryVersionStore()
    record = request_record(command(), offset=3)
    with pytest.raises(ConnectionError):
        await _turns(generator, sender, store).run(record)
    assert not [e for e in _events(sender) if isinstance(e, AssetGenerated)]

    await _turns(generator, sender, store).run(record)  # redelivered to a restarted worker

    assert len(generator.calls) == 1
    generated = [e for e in _events(sender) if isinstance(e, AssetGenerated)]
    assert len(generated) == 1


@pytest.mark.parametrize(
    ("value", "headers_of", "reason"),
    [
        (b"{not json", None, "not JSON"),
        (None, None, "empty record value"),
        (b"{}", lambda hdrs: [x for x in hdrs if x[0] != "ce_type"], "missing header"),
    ],
)
async def test_undecodable_records_are_dead_lettered_without_a_call(
    command: CommandFactory,
    request_record: RecordFactory,
    value: bytes | None,
    headers_of: Callable[[Headers], Headers] | None,
    reason: str,
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE)
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    good = request_record(command(), offset=4)
    headers = headers_of(good.headers) if headers_of else good.headers
    bad = Record(good.topic, 0, 4, good.timestamp_ms, good.key, value, headers)

    await _turns(generator, sender, store).run(bad)

    assert generator.calls == []
    (dead,) = sender.to(DLT)
    assert header(dead.headers, h.DLT_REASON) == "poison"
    assert reason in (header(dead.headers, h.ERROR_MESSAGE) or "")
    assert header(dead.headers, h.ORIGINAL_OFFSET) == "4"


async def test_a_request_for_another_medium_or_another_type_is_poison(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE)
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    turns = _turns(generator, sender, store)
    wrong_kind = request_record(command(kind=MediaKind.MUSIC), offset=1)
    wrong_kind = Record(
        topics.requests(MediaKind.IMAGE), 0, 1, 0, b"a", wrong_kind.value, wrong_kind.headers
    )
    lecture = LectureCreated(lecture_id="l1", title="t", duration_s=1, segments=(), assets=())
    value, hdrs = encode(envelop(lecture, "test"))
    wrong_type = Record(topics.requests(MediaKind.IMAGE), 0, 2, 0, b"a", value, hdrs)

    await turns.run(wrong_kind)
    await turns.run(wrong_type)

    assert generator.calls == []
    reasons = [header(o.headers, h.ERROR_MESSAGE) or "" for o in sender.to(DLT)]
    assert "music request on the image worker" in reasons[0]
    assert "expected lecturegen.command.generate-asset.v1" in reasons[1]


class _RaisingGenerator:
    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, attempt: Attempt) -> GenerationResult:
        self.calls += 1
        raise KeyError("bug")


async def test_a_generator_that_raises_counts_as_an_unknown_error_and_is_retried(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    sender, store = InMemoryPublisher(), InMemoryVersionStore()

    await _turns(_RaisingGenerator(), sender, store).run(request_record(command()))

    retrying = _events(sender)[-1]
    assert isinstance(retrying, AssetRetrying)
    assert retrying.error.code == "UNKNOWN"
    assert len([o for o in sender.sent if ".retry." in o.topic]) == 1


async def test_a_retry_carries_the_prediction_to_resume_into_the_next_attempt(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    class Resumable(InMemoryGenerator):
        async def generate(self, attempt: Attempt) -> GenerationResult:
            result = await super().generate(attempt)
            if attempt.number == 1 and isinstance(result, GenerationFailed):
                return replace(result, resume_prediction_id="pred-7")
            return result

    generator = Resumable(MediaKind.IMAGE, {"slow": [GenerationError.transient("deadline")]})
    first = request_record(command(prompt="slow"))

    await _chain(generator, first, read_back)

    assert [a.resume_prediction_id for a in generator.calls] == [None, "pred-7"]


async def test_a_worker_killed_after_the_create_resumes_that_prediction_when_restarted(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE, killed_after_create={"slow"})
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    record = request_record(command(prompt="slow"), offset=7)
    with pytest.raises(ProcessKilled):
        await _turns(generator, sender, store).run(record)

    await _turns(generator, sender, store).run(record)  # redelivered to a restarted worker

    (created,) = generator.created
    assert [a.resume_prediction_id for a in generator.calls] == [None, created]
    (generated,) = [e for e in _events(sender) if isinstance(e, AssetGenerated)]
    assert generated.prediction_id == created


async def test_the_retry_of_a_resumed_attempt_that_failed_creates_a_prediction_of_its_own(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    flaky = [GenerationError.transient("E6716")]
    generator = InMemoryGenerator(MediaKind.IMAGE, {"slow": flaky}, killed_after_create={"slow"})
    sender, store = InMemoryPublisher(), InMemoryVersionStore()
    record = request_record(command(prompt="slow"), offset=7)
    with pytest.raises(ProcessKilled):
        await _turns(generator, sender, store).run(record)
    turns = _turns(generator, sender, store)

    await turns.run(record)  # resumes the prediction, which fails transiently
    await turns.run(read_back(sender.to(topics.retry_tier(MediaKind.IMAGE, 5000))[0], offset=8))

    assert [a.resume_prediction_id for a in generator.calls] == [None, generator.created[0], None]
    assert len(generator.created) == 2  # the retry is a new attempt: it creates its own
    assert isinstance(_events(sender)[-1], AssetGenerated)


async def test_a_store_that_cannot_save_the_prediction_does_not_fail_the_call(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    class Forgetful(InMemoryVersionStore):
        async def remember(self, claim: Claim, prediction_id: str) -> None:
            raise ConnectionError("database gone for a moment")

    generator = InMemoryGenerator(MediaKind.IMAGE)
    sender = InMemoryPublisher()

    await _turns(generator, sender, Forgetful()).run(request_record(command()))

    assert isinstance(_events(sender)[-1], AssetGenerated)


async def test_a_save_waiting_for_the_database_lets_the_call_go_on_and_lands_before_the_outcome(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    database_back = asyncio.Event()
    order: list[str] = []

    class Away(InMemoryVersionStore):
        async def remember(self, claim: Claim, prediction_id: str) -> None:
            await database_back.wait()
            order.append("remember")
            await super().remember(claim, prediction_id)

        async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
            order.append("settle")
            await super().settle(claim, result, unsent)

    generator = InMemoryGenerator(MediaKind.IMAGE)
    turn = asyncio.create_task(
        _turns(generator, InMemoryPublisher(), Away()).run(request_record(command()))
    )
    await asyncio.sleep(1.5)
    called, waiting = len(generator.calls), not turn.done()
    database_back.set()
    await turn

    assert called == 1
    assert waiting
    assert order == ["remember", "settle"]
