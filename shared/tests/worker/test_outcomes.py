"""What each outcome of an attempt writes, which status it stands for, and how it is counted:
`shared.worker.outcomes` and `shared.worker.writer` are pure, so every case is checked here
without Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import headers as h
from shared import topics
from shared.envelope import decode
from shared.errors import GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetRetrying,
    GenerateAsset,
)
from shared.kafka.records import Outgoing, Record, header
from shared.media import MediaKind
from shared.results import (
    GenerationDebug,
    GenerationFailed,
    GenerationResult,
    GenerationSucceeded,
    StoredMedia,
)
from shared.retry import Decision, Fail, NeedsPromptUpdate, Retry, RetryPolicy, decide
from shared.status import AssetStatus
from shared.worker.metrics import WorkerMetrics
from shared.worker.outcomes import (
    Failed,
    Finished,
    Generated,
    PromptUpdateRequired,
    RetryScheduled,
    outcome_of,
)
from shared.worker.versions import Ended, Scheduled
from shared.worker.writer import Writer

from .conftest import CommandFactory, RecordFactory

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
WRITER = Writer(MediaKind.IMAGE, namespace="t.")
POLICY = RetryPolicy()
DEBUG = GenerationDebug(prompt="a red fox", model="acme/painter:v1", provider="replicate")


def _failed(error: GenerationError, resume: str | None = None) -> GenerationFailed:
    return GenerationFailed(MediaKind.IMAGE, error, DEBUG, resume_prediction_id=resume)


def _records(
    record: Record,
    command: GenerateAsset,
    attempt: int,
    result: GenerationResult,
    decision: Decision | None,
    now: datetime = T0,
) -> list[Outgoing]:
    finished = Finished(record, command, attempt, result, now)
    return outcome_of(finished, decision).records(WRITER)


def test_a_success_is_one_generated_event_keyed_by_lecture(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    record = request_record(cmd, offset=7, partition=3)
    media = StoredMedia("ab/cdef.png", "image/png", 1234)
    result = GenerationSucceeded(
        MediaKind.IMAGE,
        media,
        GenerationDebug("a red fox", "acme/painter:v1", "replicate", prediction_id="pred-9"),
    )

    out = _records(record, cmd, 2, result, None)

    assert [o.topic for o in out] == ["t.lecturegen.events.v1"]
    assert out[0].key == b"l1"
    event = decode(out[0].value, out[0].headers)
    assert event.correlation_id == "corr-1"
    assert event.subject == "lectures/l1/assets/a1"
    payload = event.payload
    assert isinstance(payload, AssetGenerated)
    assert (payload.media.blob_key, payload.media.size_bytes) == ("ab/cdef.png", 1234)
    assert (payload.prediction_id, payload.model, payload.prompt) == (
        "pred-9",
        "acme/painter:v1",
        "a red fox",
    )
    assert (payload.attempts, payload.retried_count, payload.prompt_version) == (2, 1, 1)


def test_a_transient_failure_is_a_retrying_event_and_the_request_on_its_tier(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    record = request_record(cmd, offset=7, partition=3)
    error = GenerationError.transient("E6716 temporary", provider_code="E6716")
    decision = decide(error, 1, POLICY, T0)
    assert isinstance(decision, Retry)

    event_out, tier_out = _records(record, cmd, 1, _failed(error, "pred-1"), decision, T0)

    retrying = decode(event_out.value, event_out.headers).payload
    assert isinstance(retrying, AssetRetrying)
    assert (retrying.attempt, retrying.retried_count, retrying.delay_s) == (1, 1, 5.0)
    assert retrying.next_attempt_at == T0 + timedelta(seconds=5)
    assert retrying.error.code == "TRANSIENT_PROVIDER_ERROR"
    assert retrying.model == DEBUG.model  # the breaker counts failures per model
    assert retrying.waiting_for is None
    assert tier_out.topic == "t.lecturegen.image.retry.5s.v1"
    assert tier_out.key == b"a1"
    assert tier_out.value == record.value  # the command itself travels unchanged
    hdrs = tier_out.headers
    assert header(hdrs, h.ATTEMPT) == "2"
    assert header(hdrs, h.DUE_AT) == (T0 + timedelta(seconds=5)).isoformat()
    assert header(hdrs, h.TIER_MS) == "5000"
    assert header(hdrs, h.ERROR_CODE) == "TRANSIENT_PROVIDER_ERROR"
    assert header(hdrs, h.CORRELATION_ID) == "corr-1"
    assert header(hdrs, h.PREDICTION_ID) == "pred-1"
    origin = [header(hdrs, n) for n in (h.ORIGINAL_TOPIC, h.ORIGINAL_PARTITION, h.ORIGINAL_OFFSET)]
    assert origin == [topics.requests(MediaKind.IMAGE), "3", "7"]
    assert isinstance(decode(tier_out.value, hdrs).payload, GenerateAsset)


def test_a_later_retry_keeps_the_provenance_of_the_original_request(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    cmd = command()
    error = GenerationError.transient("503")
    first = decide(error, 1, POLICY, T0)
    assert isinstance(first, Retry)
    _, tier_out = _records(
        request_record(cmd, offset=7, partition=3), cmd, 1, _failed(error), first, T0
    )
    retry_record = read_back(tier_out, offset=99, partition=1)
    second = decide(error, 2, POLICY, T0)
    assert isinstance(second, Retry)

    _, again = _records(retry_record, cmd, 2, _failed(error), second, T0)

    assert again.topic == "t.lecturegen.image.retry.10s.v1"
    assert header(again.headers, h.ATTEMPT) == "3"
    assert header(again.headers, h.ORIGINAL_OFFSET) == "7"
    assert header(again.headers, h.ORIGINAL_PARTITION) == "3"
    assert header(again.headers, h.PREDICTION_ID) is None  # no prediction to resume this time
    assert [n for n, _ in again.headers].count(h.ATTEMPT) == 1  # replaced, not appended


def test_a_rejected_prompt_is_one_needs_prompt_update_event_and_nothing_else(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    error = GenerationError.sensitive_content("flagged as sensitive (E005)", provider_code="E005")
    decision = decide(error, 1, POLICY, T0)
    assert isinstance(decision, NeedsPromptUpdate)

    out = _records(request_record(cmd), cmd, 1, _failed(error), decision, T0)

    assert len(out) == 1
    payload = decode(out[0].value, out[0].headers).payload
    assert isinstance(payload, AssetNeedsPromptUpdate)
    assert (payload.error.provider_code, payload.retried_count, payload.attempts) == ("E005", 0, 1)
    assert payload.prompt == "a red fox"


def test_exhausted_retries_are_a_failed_event_and_a_dead_letter_copy_with_provenance(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    cmd = command()
    error = GenerationError.transient("E6716")
    decision = decide(error, 4, POLICY, T0)
    assert decision == Fail(retried_count=3, exhausted=True)
    tier_record = read_back(
        _records(
            request_record(cmd, offset=7, partition=3),
            cmd,
            3,
            _failed(error),
            decide(error, 3, POLICY, T0),
            T0,
        )[1],
        offset=5,
    )

    event_out, dlt_out = _records(tier_record, cmd, 4, _failed(error), decision, T0)

    failed = decode(event_out.value, event_out.headers).payload
    assert isinstance(failed, AssetFailed)
    assert (failed.retried_count, failed.attempts) == (3, 4)
    assert dlt_out.topic == "t.lecturegen.image.dlt.v1"
    assert dlt_out.value == tier_record.value
    assert header(dlt_out.headers, h.DLT_REASON) == "exhausted"
    assert header(dlt_out.headers, h.ERROR_CODE) == "TRANSIENT_PROVIDER_ERROR"
    assert header(dlt_out.headers, h.ORIGINAL_OFFSET) == "7"


def test_a_permanent_failure_is_dead_lettered_as_failed_not_exhausted(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    error = GenerationError.configuration("402 billing", provider_code="402")
    decision = decide(error, 1, POLICY, T0)

    event_out, dlt_out = _records(request_record(cmd), cmd, 1, _failed(error), decision, T0)

    assert isinstance(decode(event_out.value, event_out.headers).payload, AssetFailed)
    assert header(dlt_out.headers, h.DLT_REASON) == "failed"


def test_a_poison_record_goes_to_the_dead_letter_topic_with_its_reason(
    request_record: RecordFactory, command: CommandFactory
) -> None:
    record = request_record(command(), offset=12, partition=2)
    broken = type(record)(**{**{f: getattr(record, f) for f in record.__slots__}, "value": b"{"})

    (out,) = WRITER.poison(broken, "value is not JSON")

    assert out.topic == "t.lecturegen.image.dlt.v1"
    assert out.value == b"{"
    assert header(out.headers, h.DLT_REASON) == "poison"
    assert header(out.headers, h.ERROR_MESSAGE) == "value is not JSON"
    assert header(out.headers, h.ORIGINAL_OFFSET) == "12"
    assert header(out.headers, h.ORIGINAL_PARTITION) == "2"


def test_a_hop_writes_the_record_to_the_tier_unchanged_but_for_the_tier(
    command: CommandFactory, request_record: RecordFactory, read_back: RecordFactory
) -> None:
    cmd = command()
    error = GenerationError.rate_limited("throttled", retry_after_s=900)
    decision = decide(error, 1, POLICY, T0)
    assert isinstance(decision, Retry)
    assert decision.tier_ms == 300_000
    _, tier_out = _records(request_record(cmd), cmd, 1, _failed(error), decision, T0)

    (hopped,) = WRITER.hop(read_back(tier_out), 300_000)

    assert hopped.topic == "t.lecturegen.image.retry.300s.v1"
    assert hopped.value == tier_out.value
    assert header(hopped.headers, h.DUE_AT) == (T0 + timedelta(seconds=900)).isoformat()
    assert header(hopped.headers, h.ATTEMPT) == "2"


def test_attempt_started_names_the_attempt(command: CommandFactory) -> None:
    out = WRITER.attempt_started(command(), 3, T0)

    payload = decode(out.value, out.headers).payload
    assert isinstance(payload, AssetAttemptStarted)
    assert (payload.attempt, payload.started_at) == (3, T0)
    assert out.key == b"l1"


def _finished(record: Record, cmd: GenerateAsset, result: GenerationResult) -> Finished:
    return Finished(record, cmd, 1, result, T0 + timedelta(seconds=30))


def test_each_outcome_stands_for_the_status_of_its_event_and_settles_accordingly(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    record = request_record(cmd)
    media = StoredMedia("ab/cdef.png", "image/png", 1)
    cases: dict[str | None, GenerationResult] = {
        None: GenerationSucceeded(MediaKind.IMAGE, media, DEBUG),
        "transient": _failed(GenerationError.transient("503")),
        "sensitive": _failed(GenerationError.sensitive_content("E005")),
        "billing": _failed(GenerationError.configuration("402")),
    }
    outcomes = [
        outcome_of(
            _finished(record, cmd, result),
            None if result.ok else decide(result.error, 1, POLICY, T0),
        )
        for result in cases.values()
    ]

    assert [type(o) for o in outcomes] == [Generated, RetryScheduled, PromptUpdateRequired, Failed]
    assert [o.status for o in outcomes] == [
        AssetStatus.GENERATED,
        AssetStatus.RETRYING,
        AssetStatus.NEEDS_PROMPT_UPDATE,
        AssetStatus.FAILED,
    ]
    for outcome in outcomes:  # the status is the one its (first) event stands for
        event = decode(outcome.records(WRITER)[0].value, outcome.records(WRITER)[0].headers)
        assert type(event.payload) is outcome.event
        assert outcome.event.STATUS is outcome.status
    assert [o.settlement for o in outcomes] == [
        Ended(AssetStatus.GENERATED),
        Scheduled(),
        Ended(AssetStatus.NEEDS_PROMPT_UPDATE),
        Ended(AssetStatus.FAILED),
    ]


def _count(metrics: WorkerMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, {"medium": "image", **labels})
    return value or 0.0


def test_a_retry_is_counted_on_its_tier_and_an_exhausted_failure_as_a_dead_letter(
    command: CommandFactory, request_record: RecordFactory
) -> None:
    cmd = command()
    record = request_record(cmd)
    error = GenerationError.transient("E6716")
    metrics = WorkerMetrics(MediaKind.IMAGE, tiers_ms=POLICY.tiers_ms)

    retry_fields: dict[str, object] = {}
    outcome_of(_finished(record, cmd, _failed(error)), decide(error, 1, POLICY, T0)).account(
        metrics, retry_fields
    )
    exhausted = Finished(record, cmd, 4, _failed(error), T0 + timedelta(seconds=30))
    failed_fields: dict[str, object] = {}
    outcome_of(exhausted, decide(error, 4, POLICY, T0)).account(metrics, failed_fields)

    assert retry_fields["retries"] == 1
    assert retry_fields["delay_s"] == 5.0
    assert _count(metrics, "lecturegen_worker_retries_scheduled_total", tier="5s") == 1
    assert failed_fields["retries"] == 3
    assert failed_fields["code"] == "TRANSIENT_PROVIDER_ERROR"
    dead = _count(metrics, "lecturegen_worker_dead_letters_total", reason="exhausted")
    assert dead == 1
