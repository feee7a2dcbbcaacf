"""A worker started while its model's circuit is open (as the compacted health topic says)
calls nothing until the circuit closes: the request waits, the asset shows it is waiting for
the provider, once every slot holds such a request the worker stops fetching (the rest waits in
Kafka), and everything is generated once the circuit is closed again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import (
    AssetGenerated,
    AssetRetrying,
    GenerateAsset,
)
from shared.health.board import CircuitBoard
from shared.health.follower import following
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
from shared.worker.testing import EventLog, command_record, produce, running, sim_creates

pytestmark = pytest.mark.integration


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.2)) as url:
        yield url


async def test_a_worker_started_while_the_circuit_is_open_calls_nothing_until_it_closes(
    kafka_bootstrap: str, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    ns = f"t{unique_name}."
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=ns)
    await create_topics(kafka, [provider_health_topic(ns, TopicSettings())])
    # before the worker exists
    await produce(kafka, [health_change(ns, IMAGE.default_model, "open")])
    command, *later = [
        GenerateAsset(
            command_id=f"c-{unique_name}-{n}",
            lecture_id=f"l-{unique_name}",
            asset_id=f"a-{unique_name}-{n}",
            kind=IMAGE.kind,
            prompt_version=1,
            prompt=f"an owl {unique_name} {n}",
            model="",
            requested_at=datetime.now(UTC),
            correlation_id="corr",
        )
        for n in range(4)
    ]
    async with contextlib.AsyncExitStack() as stack:
        board = await stack.enter_async_context(following(kafka, CircuitBoard()))
        provider = ProviderSettings(base_url=sim_url, api_token="test")
        generator = await stack.enter_async_context(
            open_replicate_generator(IMAGE, provider, BlobSettings(root=tmp_path))
        )
        config = WorkerConfig(
            worker=WorkerSettings(group_id=f"w{unique_name}", max_in_flight=1),
            kafka=kafka,
            policy=RetrySettings(base_delay_s=1.0, max_tier_s=30).policy(),
            postgres=PostgresSettings(dsn=pg_database),
            topics=TopicSettings(request_partitions=2, tier_partitions=1),
        )
        holding = Holding(board, HoldSettings(recheck_s=0.2), IMAGE.model_for)
        worker = await stack.enter_async_context(
            open_worker(IMAGE.kind, generator, config, holding=holding)
        )
        log = await stack.enter_async_context(EventLog(kafka, topics.events(ns)))
        await stack.enter_async_context(running(worker))
        await produce(kafka, [command_record(command, ns)])

        def waiting() -> bool:
            return any(
                isinstance(e, AssetRetrying) and e.waiting_for == "provider"
                for e in log.of_asset(command.asset_id)
            )

        await log.wait_for(waiting, 30, "the asset to say it waits for the provider")
        await produce(kafka, [command_record(c, ns) for c in later])
        await asyncio.sleep(2)
        assert await sim_creates(sim_url, unique_name) == 0
        assert log.outcomes(command.asset_id) == []
        requests = {tp for tp in worker.paused if tp.topic == topics.requests(IMAGE.kind, ns)}
        assert len(requests) == 2, "the worker fetched on while its only slot was held"

        await produce(kafka, [health_change(ns, IMAGE.default_model, "closed")])
        ids = [c.asset_id for c in (command, *later)]
        await log.wait_for(lambda: log.ended(*ids), 30, "every asset's outcome")
        assert not worker.paused

    for asset_id in ids:
        (outcome,) = log.outcomes(asset_id)
        assert isinstance(outcome, AssetGenerated)
        assert (outcome.attempts, outcome.retried_count) == (1, 0)
    assert await sim_creates(sim_url, unique_name) == 4
