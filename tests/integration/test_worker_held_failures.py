"""A worker held by its model's circuit (the compacted health topic, written by the test),
against the local Replicate-compatible server, real Kafka and PostgreSQL (decision 0019):

- an attempt's first failure while the circuit is not closed spends no retry, but a second
  failure of the same attempt does, whatever the circuit says, and its retry record carries
  when the asset began waiting;
- `MEDIA_GENERATION_MAX_OUTAGE_S` counts from when the asset began waiting, not from when
  the worker process now holding it started: a worker restarted in an outage gives up on time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import headers as h
from shared import topics
from shared.events import (
    AssetFailed,
    AssetGenerated,
    AssetRetrying,
    GenerateAsset,
)
from shared.health.board import CircuitBoard
from shared.health.follower import following
from shared.health.outcomes import CIRCUIT_OPEN
from shared.health.testing import health_change
from shared.kafka import TopicSettings, create_topics, provider_health_topic
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.worker.entry import WorkerConfig, open_replicate_generator, open_worker
from shared.worker.holding import Holding, HoldSettings
from shared.worker.settings import WorkerSettings
from shared.worker.testing import (
    EventLog,
    TopicTail,
    command_record,
    produce,
    running,
    sim_creates,
)

pytestmark = pytest.mark.integration

MODEL = IMAGE.default_model


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.2)) as url:
        yield url


def _command(name: str, prompt: str) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"c-{name}",
        lecture_id=f"l-{name}",
        asset_id=f"a-{name}",
        kind=IMAGE.kind,
        prompt_version=1,
        prompt=prompt,
        model="",
        requested_at=datetime.now(UTC),
        correlation_id="corr",
    )


class _Fleet:
    """One image worker at a time over a namespace, following its health topic."""

    def __init__(self, kafka: KafkaSettings, dsn: str, sim_url: str, media: Path) -> None:
        self.kafka, self.dsn, self.sim_url, self.media = kafka, dsn, sim_url, media

    @contextlib.asynccontextmanager
    async def worker(self, group: str, max_outage_s: float = 1800) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            board = await stack.enter_async_context(following(self.kafka, CircuitBoard()))
            provider = ProviderSettings(base_url=self.sim_url, api_token="test")
            generator = await stack.enter_async_context(
                open_replicate_generator(IMAGE, provider, BlobSettings(root=self.media))
            )
            config = WorkerConfig(
                worker=WorkerSettings(group_id=group, max_in_flight=2, shutdown_grace_s=0.5),
                kafka=self.kafka,
                policy=RetrySettings(base_delay_s=1.0, max_tier_s=30).policy(),
                postgres=PostgresSettings(dsn=self.dsn),
                topics=TopicSettings(request_partitions=1, tier_partitions=1),
            )
            hold = HoldSettings(recheck_s=0.2, max_outage_s=max_outage_s)
            holding = Holding(board, hold, IMAGE.model_for)
            worker = await stack.enter_async_context(
                open_worker(IMAGE.kind, generator, config, holding=holding)
            )
            await stack.enter_async_context(running(worker))
            yield


@pytest.fixture
async def fleet(
    kafka_bootstrap: str, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> _Fleet:
    ns = f"t{unique_name}."
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=ns)
    await create_topics(kafka, [provider_health_topic(ns, TopicSettings())])
    return _Fleet(kafka, pg_database, sim_url, tmp_path)


async def test_an_attempts_second_failure_in_an_outage_spends_a_retry_that_remembers_the_wait(
    fleet: _Fleet, unique_name: str
) -> None:
    kafka, ns = fleet.kafka, fleet.kafka.topic_namespace
    began = datetime.now(UTC) - timedelta(seconds=1)
    await produce(kafka, [health_change(ns, MODEL, "half_open", since=began)])
    command = _command(unique_name, f"a heron {unique_name} [[sim:transient x2]]")
    async with contextlib.AsyncExitStack() as stack:
        log = await stack.enter_async_context(EventLog(kafka, topics.events(ns)))
        tier = topics.retry_tier(IMAGE.kind, 1000, ns)
        retries = await stack.enter_async_context(TopicTail(kafka, tier))
        await stack.enter_async_context(fleet.worker(f"w{unique_name}"))
        await produce(kafka, [command_record(command, ns)])
        sent = datetime.now(UTC)

        def retrying(waiting: bool) -> list[AssetRetrying]:
            return [
                e
                for e in log.of_asset(command.asset_id)
                if isinstance(e, AssetRetrying) and (e.waiting_for == "provider") is waiting
            ]

        # the probe failed: held, not retried
        await log.wait_for(lambda: bool(retrying(waiting=True)), 30, "a held failure")
        assert (retrying(True)[0].attempt, retrying(True)[0].retried_count) == (1, 0)
        assert retrying(True)[0].error.provider_code != CIRCUIT_OPEN
        assert await sim_creates(fleet.sim_url, unique_name) == 1

        # the next probe is the same attempt and fails again: that spends a retry
        later = began + timedelta(seconds=5)
        await produce(
            kafka,
            [
                health_change(
                    ns,
                    MODEL,
                    "half_open",
                    since=later,
                    unavailable_since=began,
                )
            ],
        )
        await log.wait_for(lambda: bool(retrying(waiting=False)), 30, "a retry spent")
        spent = retrying(waiting=False)[0]
        assert (spent.attempt, spent.retried_count) == (1, 1)
        await retries.wait_for(lambda: bool(retries.records), 30, "the retry record")
        carried = retries.records[0].header(h.WAITING_SINCE)
        assert carried is not None
        # the request was written during the outage: its wait began then
        assert began < datetime.fromisoformat(carried) <= sent

        await produce(
            kafka,
            [
                health_change(
                    ns,
                    MODEL,
                    "closed",
                    since=later + timedelta(seconds=5),
                )
            ],
        )
        await log.wait_for(lambda: log.ended(command.asset_id), 30, "the outcome")

    (outcome,) = log.outcomes(command.asset_id)
    assert isinstance(outcome, AssetGenerated)
    assert (outcome.attempts, outcome.retried_count) == (2, 1)
    assert await sim_creates(fleet.sim_url, unique_name) == 3


async def test_a_worker_restarted_in_an_outage_gives_up_counting_from_when_the_asset_began_to_wait(
    fleet: _Fleet, unique_name: str
) -> None:
    kafka, ns = fleet.kafka, fleet.kafka.topic_namespace
    max_outage_s = 12.0
    began = datetime.now(UTC) - timedelta(seconds=1)
    await produce(kafka, [health_change(ns, MODEL, "open", since=began)])
    command = _command(unique_name, f"a heron {unique_name}")
    group = f"w{unique_name}"
    async with EventLog(kafka, topics.events(ns)) as log:
        async with fleet.worker(group, max_outage_s):
            await produce(kafka, [command_record(command, ns)])
            sent = datetime.now(UTC)
            await log.wait_for(
                lambda: any(isinstance(e, AssetRetrying) for e in log.of_asset(command.asset_id)),
                30,
                "the asset to wait for the provider",
            )
            await asyncio.sleep(8)  # held a while by this process
        restarted = datetime.now(UTC)
        assert (restarted - sent).total_seconds() >= 8
        async with fleet.worker(group, max_outage_s):
            await log.wait_for(lambda: log.ended(command.asset_id), 60, "the outcome")
            ended = datetime.now(UTC)

    (outcome,) = log.outcomes(command.asset_id)
    assert isinstance(outcome, AssetFailed)
    assert outcome.error.provider_code == CIRCUIT_OPEN
    assert "provider was unavailable" in outcome.error.message
    # counted from the request (written in the outage), not from the restart
    assert (ended - sent).total_seconds() < max_outage_s + 4
    assert await sim_creates(fleet.sim_url, unique_name) == 0
