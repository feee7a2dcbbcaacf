"""Failing assets through the real pipeline: dispatcher and image worker on a real broker and
PostgreSQL, the real `replicate` client against the local Replicate-compatible server.

Retry delays are scaled down through the settings objects (base 0.3 s, longest tier 1.2 s).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatcher.runner import Dispatcher
from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import headers as h
from shared import topics
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetPlan,
    AssetRetrying,
    GenerateAsset,
    LectureCreated,
    SegmentPlan,
)
from shared.kafka import TopicSettings, make_consumer, make_producer
from shared.kafka.publisher import KafkaPublisher
from shared.kafka.records import Outgoing, header
from shared.media import MediaKind
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.entry import open_replicate_generator
from shared.worker.testing import (
    EventLog,
    Runnable,
    TopicTail,
    command_record,
    event_record,
    produce,
    running,
    sim_creates,
)

pytestmark = pytest.mark.integration

TOLERANCE = timedelta(seconds=0.6)
"""How much later than its due time an attempt may start on a busy test machine."""


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
def config(kafka_bootstrap: str, pg_database: str, unique_name: str) -> WorkerConfig:
    return WorkerConfig(
        worker=WorkerSettings(group_id=f"w{unique_name}", commit_interval_s=0.05),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}."),
        policy=RetrySettings(base_delay_s=0.3, max_tier_s=1.2).policy(),
        postgres=PostgresSettings(dsn=pg_database),
        topics=TopicSettings(request_partitions=4, tier_partitions=2, events_partitions=2),
    )


@pytest.fixture
async def image_worker(
    config: WorkerConfig, sim_url: str, tmp_path: Path
) -> AsyncIterator[Runnable]:
    provider = ProviderSettings(base_url=sim_url, api_token="test", poll_interval_s=0.05)
    async with (
        open_replicate_generator(IMAGE, provider, BlobSettings(root=tmp_path)) as generator,
        open_worker(MediaKind.IMAGE, generator, config) as runtime,
    ):
        yield runtime


@contextlib.asynccontextmanager
async def dispatcher(config: WorkerConfig, unique_name: str) -> AsyncIterator[Dispatcher]:
    producer = make_producer(config.kafka)
    await producer.start()
    try:
        consumer = make_consumer(config.kafka, f"d{unique_name}")
        yield Dispatcher(consumer, KafkaPublisher(producer), namespace=config.kafka.topic_namespace)
    finally:
        await producer.stop()


def _lecture(prompts: list[str]) -> LectureCreated:
    return LectureCreated(
        lecture_id="lecture-1",
        title="Failures",
        duration_s=len(prompts) * 5,
        segments=tuple(
            SegmentPlan(segment_id=f"s{i}", start_s=i * 5, duration_s=5)
            for i in range(len(prompts))
        ),
        assets=tuple(
            AssetPlan(
                asset_id=f"img-{i}",
                kind=MediaKind.IMAGE,
                segment_id=f"s{i}",
                prompt=prompt,
                model="black-forest-labs/flux-schnell",
            )
            for i, prompt in enumerate(prompts)
        ),
    )


def _command(asset_id: str, prompt: str) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"c-{asset_id}",
        lecture_id="lecture-1",
        asset_id=asset_id,
        kind=MediaKind.IMAGE,
        prompt_version=1,
        prompt=prompt,
        model="black-forest-labs/flux-schnell",
        requested_at=datetime.now(UTC),
        correlation_id=f"corr-{asset_id}",
    )


def _index_of_outcome(log: EventLog, asset_id: str) -> int:
    """Where the asset's outcome sits in the log (one lecture: one partition, one order)."""
    for index, envelope in enumerate(log.envelopes):
        payload = envelope.payload
        if (
            isinstance(payload, AssetGenerated | AssetFailed | AssetNeedsPromptUpdate)
            and payload.asset_id == asset_id
        ):
            return index
    raise AssertionError(f"no outcome for {asset_id}")


def _gaps(log: EventLog, asset_id: str) -> Iterator[tuple[AssetRetrying, datetime]]:
    """Each retry decision of the asset, with the start time of the attempt it scheduled."""
    events = log.of_asset(asset_id)
    starts = {e.attempt: e.started_at for e in events if isinstance(e, AssetAttemptStarted)}
    for event in events:
        if isinstance(event, AssetRetrying):
            yield event, starts[event.attempt + 1]


async def test_failing_assets_never_hold_up_the_rest_and_end_as_the_policy_says(
    config: WorkerConfig, image_worker: Runnable, sim_url: str, unique_name: str
) -> None:
    plain = [f"slide {i}, a quiet harbour" for i in range(9)]
    prompts = [
        *plain,
        "[[sim:transient x2]] the tide coming in",
        "[[sim:sensitive]] the storm",
        "[[sim:transient x9]] the lighthouse",
    ]
    ns = config.kafka.topic_namespace
    lecture = _lecture(prompts)
    ids = [a.asset_id for a in lecture.assets]
    flaky, sensitive, doomed = ids[9], ids[10], ids[11]

    async with (
        dispatcher(config, unique_name) as dispatch,
        EventLog(config.kafka, topics.events(ns)) as log,
        TopicTail(config.kafka, topics.dead_letter(MediaKind.IMAGE, ns)) as dlt,
        running(dispatch, image_worker),
    ):
        await produce(config.kafka, [event_record(lecture, ns, correlation_id="req-1")])
        await log.wait_for(lambda: log.ended(*ids), 60, "an outcome for every asset")
        await dlt.wait_for(lambda: len(dlt.records) >= 1, 10, "the dead-letter copy")

    for asset_id in ids[:9]:
        (outcome,) = log.outcomes(asset_id)
        assert isinstance(outcome, AssetGenerated)
    last_plain = max(_index_of_outcome(log, a) for a in ids[:9])
    assert last_plain < _index_of_outcome(log, flaky)
    assert last_plain < _index_of_outcome(log, doomed)

    (generated,) = log.outcomes(flaky)
    assert isinstance(generated, AssetGenerated)
    assert (generated.attempts, generated.retried_count) == (3, 2)
    assert await sim_creates(sim_url, "the tide coming in") == 3

    (needs,) = log.outcomes(sensitive)
    assert isinstance(needs, AssetNeedsPromptUpdate)
    assert (needs.error.code, needs.error.provider_code, needs.retried_count) == (
        "SENSITIVE_CONTENT",
        "E005",
        0,
    )
    assert await sim_creates(sim_url, "the storm") == 1

    (failed,) = log.outcomes(doomed)
    assert isinstance(failed, AssetFailed)
    assert (failed.retried_count, failed.attempts) == (3, 4)
    assert failed.error.code == "TRANSIENT_PROVIDER_ERROR"
    assert await sim_creates(sim_url, "the lighthouse") == 4
    (dead,) = dlt.records
    assert dead.key == doomed.encode()
    assert header(dead.headers, h.DLT_REASON) == "exhausted"
    assert header(dead.headers, h.ORIGINAL_TOPIC) == topics.requests(MediaKind.IMAGE, ns)
    assert header(dead.headers, h.ERROR_CODE) == "TRANSIENT_PROVIDER_ERROR"

    # every event of the lecture carries the request's correlation id, through every retry
    assert {e.correlation_id for e in log.envelopes if e.subject} == {"req-1"}


async def test_retries_wait_their_policy_delay_and_at_least_a_rate_limit_hint(
    config: WorkerConfig, image_worker: Runnable
) -> None:
    ns = config.kafka.topic_namespace
    backoff = _command("backoff", "[[sim:transient x3]] waves")
    throttled = _command("throttled", "[[sim:rate-limit x1 after=2]] gulls")

    async with EventLog(config.kafka, topics.events(ns)) as log, running(image_worker):
        await produce(config.kafka, [command_record(backoff, ns), command_record(throttled, ns)])
        await log.wait_for(lambda: log.ended("backoff", "throttled"), 60, "both outcomes")

    gaps = list(_gaps(log, "backoff"))
    assert [r.delay_s for r, _ in gaps] == pytest.approx([0.3, 0.6, 1.2])
    for retrying, next_start in gaps:
        assert retrying.next_attempt_at <= next_start  # never early
        assert next_start <= retrying.next_attempt_at + TOLERANCE  # and not much later
    ((retrying, next_start),) = _gaps(log, "throttled")
    assert retrying.error.code == "RATE_LIMITED"
    assert retrying.delay_s == pytest.approx(2.0)  # the hint beats the 0.3 s policy delay
    # 2 s is beyond the longest tier (1.2 s): the retry hops through a tier again
    assert next_start >= retrying.next_attempt_at
    assert isinstance(log.outcomes("throttled")[0], AssetGenerated)


async def test_a_poison_record_between_two_requests_is_dead_lettered_and_blocks_nothing(
    config: WorkerConfig, image_worker: Runnable
) -> None:
    ns = config.kafka.topic_namespace
    first, second = _command("first", "a boat"), _command("second", "a dock")
    good = command_record(first, ns)
    # same key, so same partition: the poison record sits between the two requests
    poison = Outgoing(good.topic, b"first", b"{this is not json", good.headers)
    later = command_record(second, ns)
    later = Outgoing(later.topic, b"first", later.value, later.headers)

    async with (
        EventLog(config.kafka, topics.events(ns)) as log,
        TopicTail(config.kafka, topics.dead_letter(MediaKind.IMAGE, ns)) as dlt,
        running(image_worker),
    ):
        await produce(config.kafka, [good, poison, later])
        await log.wait_for(lambda: log.ended("first", "second"), 30, "both outcomes")
        await dlt.wait_for(lambda: len(dlt.records) == 1, 10, "the poison record")

    assert isinstance(log.outcomes("first")[0], AssetGenerated)
    assert isinstance(log.outcomes("second")[0], AssetGenerated)
    (dead,) = dlt.records
    assert dead.value == b"{this is not json"
    assert header(dead.headers, h.DLT_REASON) == "poison"
    assert "not JSON" in (header(dead.headers, h.ERROR_MESSAGE) or "")
    assert header(dead.headers, h.ORIGINAL_TOPIC) == good.topic
