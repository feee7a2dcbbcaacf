"""Webhook mode end to end: the video worker, the API's webhook route and the local
Replicate-compatible server (which signs and sends the webhooks) on a real broker and
PostgreSQL, through the real `replicate` client.

Scaled down from the issue's 100 videos of 30 s on 8 slots: 16 videos of 5 s on 2 slots. Polling
needs 16 / 2 * 5 s = 40 s for them; with webhooks the slots are free once each prediction is
created, so all of them run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import AssetGenerated, GenerateAsset
from shared.kafka import TopicSettings
from shared.media import MediaKind
from shared.providers.webhook_wait import WebhookWait
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.worker_mode import open_webhook_wait
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.entry import open_replicate_generator
from shared.worker.testing import EventLog, TopicTail, command_record, produce, sim_creates
from video_worker.medium import VIDEO

pytestmark = pytest.mark.integration

SLOTS = 2


@dataclass
class Pipeline:
    sim_url: str
    config: WorkerConfig
    wait: WebhookWait


@contextlib.asynccontextmanager
async def _api(settings: ApiSettings) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


@contextlib.asynccontextmanager
async def _pipeline(
    kafka_bootstrap: str, pg_database: str, name: str, tmp_path: Path, fallback_poll_s: float
) -> AsyncIterator[Pipeline]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{name}.")
    sim = SimSettings(port=0, default_latency_s=0.05, webhook_resend_delays_s=(0.2, 0.2))
    config = WorkerConfig(
        worker=WorkerSettings(group_id=f"w{name}", commit_interval_s=0.05, max_in_flight=SLOTS),
        kafka=kafka,
        policy=RetrySettings(base_delay_s=0.3, max_tier_s=1.2).policy(),
        postgres=PostgresSettings(dsn=pg_database),
        topics=TopicSettings(request_partitions=4, tier_partitions=1, events_partitions=2),
    )
    async with serve_in_background(sim) as sim_url:
        provider = ProviderSettings(base_url=sim_url, api_token="test", poll_interval_s=0.05)
        api_settings = ApiSettings(
            tokens="t",
            kafka=kafka,
            postgres=PostgresSettings(dsn=pg_database),
            blob=BlobSettings(root=tmp_path / "api"),
            provider=provider,
            webhooks=WebhookSettings(),
        )
        async with _api(api_settings) as api_url:
            webhooks = WebhookSettings(
                LECTUREGEN_WEBHOOK_URL=f"{api_url}/v1/webhooks/replicate",
                LECTUREGEN_WEBHOOK_FALLBACK_POLL_S=fallback_poll_s,
            )
            async with (
                open_webhook_wait(webhooks, kafka, config.topics) as wait,
                open_replicate_generator(
                    VIDEO, provider, BlobSettings(root=tmp_path / "media"), webhooks=wait
                ) as generator,
                open_worker(MediaKind.VIDEO, generator, config) as runtime,
            ):
                assert isinstance(wait, WebhookWait)
                running = asyncio.create_task(runtime.run())
                try:
                    yield Pipeline(sim_url, config, wait)
                finally:
                    runtime.stop()
                    await asyncio.wait_for(running, 30)


def _command(asset_id: str, prompt: str) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"c-{asset_id}",
        lecture_id="lecture-1",
        asset_id=asset_id,
        kind=MediaKind.VIDEO,
        prompt_version=1,
        prompt=prompt,
        model="minimax/video-01",
        requested_at=datetime.now(UTC),
        correlation_id=f"corr-{asset_id}",
    )


async def _webhook_counts(sim_url: str) -> dict[str, int]:
    async with httpx.AsyncClient() as http:
        counts: dict[str, int] = (await http.get(f"{sim_url}/sim/webhooks")).json()
        return counts


async def test_sixteen_five_second_videos_on_two_slots_end_well_under_the_polling_time(
    kafka_bootstrap: str, pg_database: str, unique_name: str, tmp_path: Path
) -> None:
    commands = [_command(f"v{i}", f"clip {i} [[sim:latency=5]]") for i in range(16)]
    polling_s = len(commands) / SLOTS * 5
    async with _pipeline(kafka_bootstrap, pg_database, unique_name, tmp_path, 60) as pipeline:
        ns = pipeline.config.kafka.topic_namespace
        async with EventLog(pipeline.config.kafka, topics.events(ns)) as log:
            began = time.monotonic()
            await produce(pipeline.config.kafka, [command_record(c, ns) for c in commands])
            assets = [c.asset_id for c in commands]
            await log.wait_for(lambda: log.ended(*assets), polling_s, "every outcome")
            took = time.monotonic() - began
        counts = await _webhook_counts(pipeline.sim_url)

    assert all(isinstance(log.outcomes(a)[0], AssetGenerated) for a in assets)
    assert took < polling_s / 2, f"{took:.1f} s; polling needs {polling_s:.0f} s"
    assert pipeline.wait.fallback_reads == 0, "no prediction was read: webhooks finished all"
    assert counts["accepted"] == len(commands)


async def test_a_duplicated_dropped_late_or_forged_webhook_still_gives_one_outcome(
    kafka_bootstrap: str, pg_database: str, unique_name: str, tmp_path: Path
) -> None:
    fallback_s = 1.5
    prompts = {
        "duplicated": "twice [[sim:webhook-duplicate]] [[sim:latency=0.5]]",
        "dropped": "never called back [[sim:webhook-drop]] [[sim:latency=0.5]]",
        "forged": "badly signed [[sim:webhook-bad-signature]] [[sim:latency=0.5]]",
        "racing": "as the poll reads [[sim:webhook-delay=1.5]] [[sim:latency=0.2]]",
    }
    commands = [_command(asset_id, prompt) for asset_id, prompt in prompts.items()]
    async with _pipeline(
        kafka_bootstrap, pg_database, unique_name, tmp_path, fallback_s
    ) as pipeline:
        kafka, ns = pipeline.config.kafka, pipeline.config.kafka.topic_namespace
        async with (
            EventLog(kafka, topics.events(ns)) as log,
            TopicTail(kafka, topics.provider_predictions(ns)) as completions,
        ):
            await produce(kafka, [command_record(c, ns) for c in commands])
            await log.wait_for(lambda: log.ended(*prompts), 30, "every outcome")
            await asyncio.sleep(fallback_s + 1)  # room for late webhooks to arrive (and be ignored)
            await completions.read_to_end(10)
            creates = {a: await sim_creates(pipeline.sim_url, p) for a, p in prompts.items()}
        counts = await _webhook_counts(pipeline.sim_url)

    generated = {a: log.outcomes(a) for a in prompts}
    assert all(len(outcomes) == 1 for outcomes in generated.values()), generated
    assert all(isinstance(o[0], AssetGenerated) for o in generated.values())
    assert creates == dict.fromkeys(prompts, 1)
    prediction_of = {
        a: o[0].prediction_id
        for a, o in generated.items()
        if isinstance(o[0], AssetGenerated) and o[0].prediction_id is not None
    }
    written = [r.key.decode() for r in completions.records if r.key]
    assert written.count(prediction_of["duplicated"]) == 2, "both deliveries reached Kafka"
    assert prediction_of["forged"] not in written, "a forged webhook writes nothing"
    assert prediction_of["dropped"] not in written
    assert counts["dropped"] == 1
    assert counts["refused"] == 1
    assert pipeline.wait.fallback_reads >= 2, "the dropped and the forged ones were read"
