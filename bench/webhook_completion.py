"""Webhook mode against polling: 100 video assets whose predictions take 30 s each, on a video
worker with 8 in-flight slots, end to end through the local Replicate-compatible server (which
signs and sends the `completed` webhooks; it runs in this process and counts the prediction
reads it serves), the API's `POST /v1/webhooks/replicate` and the video worker (each its own
process, as `lecturegen up` runs them), Kafka and PostgreSQL, with the real `replicate` client.

Polling holds a slot per running prediction: 100 / 8 * 30 s = 375 s. With webhooks a slot is
free once its prediction is created, so all of them run at once. Figures:

1. the makespan (first request written → last `asset.generated` read), goal under 60 s, next
   to the polling time (computed, or measured with `--polling`);
2. prediction reads served by the simulator during the run, per second, next to the rate the
   fallback poll alone would cause (one read per outstanding prediction per fallback interval).

Needs the local Kafka and PostgreSQL (`make infra`); `KAFKA_BOOTSTRAP_SERVERS` and
`DATABASE_URL` override where they are. Everything it creates is removed at the end.

    python bench/webhook_completion.py [--assets 100] [--latency 30] [--slots 8] [--polling]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from _results import record

from replicate_sim.app import create_app as create_sim
from replicate_sim.settings import SimSettings
from shared import topics
from shared.events import AssetGenerated, GenerateAsset
from shared.kafka import TopicSettings, make_admin, medium_topics
from shared.media import MediaKind
from shared.settings import (
    KafkaSettings,
    PostgresSettings,
    RetrySettings,
)
from shared.testing.databases import fresh_database
from shared.worker.testing import EventLog, WorkerProcess, command_record, produce

KIND = MediaKind.VIDEO
FALLBACK_POLL_S = 60.0


class CountingReads:
    """ASGI middleware: counts `GET /v1/predictions/{id}` served by the app it wraps."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.reads = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith("/v1/predictions/")
        ):
            self.reads += 1
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def _serve(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class Run:
    seconds: float
    reads: int
    fallback_reads: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _until_healthy(url: str, within_s: float = 60) -> None:
    async with httpx.AsyncClient() as http, asyncio.timeout(within_s):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).is_success:
                    return
            await asyncio.sleep(0.2)


async def _fallback_reads(metrics_port: int) -> int:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("lecturegen_worker_webhook_fallback_reads_total{"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


async def run_once(
    kafka: KafkaSettings, dsn: str, assets: int, latency_s: float, slots: int, webhooks: bool
) -> Run:
    """One batch of `assets` videos: the simulator in this process (it counts the reads it
    serves), the API and the video worker as their own processes, as `lecturegen up` runs them."""
    name = uuid.uuid4().hex[:8]
    kafka = kafka.model_copy(update={"topic_namespace": f"{kafka.topic_namespace}{name}."})
    ns = kafka.topic_namespace
    sim = CountingReads(create_sim(SimSettings(port=0)))
    with tempfile.TemporaryDirectory() as scratch:
        async with _serve(sim) as sim_url:
            api_port = _free_port()
            api_url = f"http://127.0.0.1:{api_port}"
            env = {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "DATABASE_URL": dsn,
                "LECTUREGEN_TOPIC_NAMESPACE": ns,
                "REPLICATE_BASE_URL": sim_url,
                "REPLICATE_API_TOKEN": "bench",
                "LECTUREGEN_ALLOWED_OUTPUT_HOSTS": '["127.0.0.1"]',
                "LECTUREGEN_BLOB_ROOT": str(Path(scratch) / "media"),
                "LECTUREGEN_API_PORT": str(api_port),
                "LECTUREGEN_API_TOKENS": "bench",
                "LECTUREGEN_WEBHOOK_URL": f"{api_url}/v1/webhooks/replicate" if webhooks else "",
                "LECTUREGEN_WEBHOOK_FALLBACK_POLL_S": str(FALLBACK_POLL_S),
                "LECTUREGEN_WORKER_MAX_OUTSTANDING": str(max(assets, 1)),
                "LECTUREGEN_VIDEO_WORKER_MAX_IN_FLIGHT": str(slots),
                "LECTUREGEN_VIDEO_WORKER_GROUP_ID": f"bench-{name}",
                "LECTUREGEN_VIDEO_WORKER_METRICS_PORT": "0",
                # the video worker is the only process calling the provider: the whole account
                "LECTUREGEN_PROVIDER_ACCOUNT_SHARES": "1",
                # polling every 0.5 s, as the figures in docs/webhooks.md were measured
                "LECTUREGEN_PROVIDER_POLL_INTERVAL_S": "0.5",
            }
            api = WorkerProcess("lecturegen-api", env, Path(scratch) / "api.log")
            worker = WorkerProcess("lecturegen-video-worker", env, Path(scratch) / "worker.log")
            try:
                await api.start()
                await _until_healthy(api_url)
                await worker.start()
                metrics_port = await worker.started(60)
                async with EventLog(kafka, topics.events(ns)) as log:
                    commands = [_command(name, i, latency_s) for i in range(assets)]
                    ids = [c.asset_id for c in commands]
                    reads_before = sim.reads
                    began = time.monotonic()
                    await produce(kafka, [command_record(c, ns) for c in commands])
                    await log.wait_for(lambda: log.ended(*ids), 20 * latency_s + 600, "outcomes")
                    took = time.monotonic() - began
                    reads = sim.reads - reads_before
                    generated = sum(isinstance(log.outcomes(a)[0], AssetGenerated) for a in ids)
                fallback = await _fallback_reads(metrics_port)
            finally:
                for process in (worker, api):
                    if process.process is not None and process.process.returncode is None:
                        process.signal(signal.SIGTERM)
                        await process.wait(60)
    if generated != assets:
        raise RuntimeError(f"only {generated} of {assets} assets were generated")
    await _delete_topics(kafka)
    return Run(took, reads, fallback)


def _command(run: str, index: int, latency_s: float) -> GenerateAsset:
    return GenerateAsset(
        command_id=f"{run}-c{index}",
        lecture_id=f"{run}-lecture-{index // 25}",
        asset_id=f"{run}-v{index}",
        kind=KIND,
        prompt_version=1,
        prompt=f"clip {index} of {run} [[sim:latency={latency_s:g}]]",
        model="minimax/video-01",
        requested_at=datetime.now(UTC),
        correlation_id=f"{run}-corr",
    )


async def _delete_topics(kafka: KafkaSettings) -> None:
    ns = kafka.topic_namespace
    names = [s.name for s in medium_topics(KIND, RetrySettings().policy(), ns, TopicSettings())]
    names += [topics.events(ns), topics.provider_predictions(ns)]
    admin = make_admin(kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await admin.delete_topics([n for n in names if n in existing])
    finally:
        await admin.close()


async def main(assets: int, latency_s: float, slots: int, polling: bool) -> None:
    kafka = KafkaSettings()
    async with fresh_database(PostgresSettings().dsn, f"bench_{uuid.uuid4().hex[:8]}") as dsn:
        hooked = await run_once(kafka, dsn, assets, latency_s, slots, webhooks=True)
        polled = None
        if polling:
            polled = await run_once(kafka, dsn, assets, latency_s, slots, webhooks=False)
    polling_s = polled.seconds if polled else assets / slots * latency_s
    how = "measured" if polled else "computed"
    print(
        f"{assets} videos of {latency_s:g} s on {slots} slots: webhooks {hooked.seconds:.1f} s, "
        f"polling {polling_s:.1f} s ({how}); {hooked.reads} prediction reads, "
        f"{hooked.fallback_reads} of them fallback polls"
        + (f"; polling made {polled.reads} reads" if polled else "")
    )
    record(
        "webhook makespan",
        hooked.seconds,
        "s",
        baseline=round(polling_s, 1),
        goal="< 60 s",
        met=hooked.seconds < 60,
    )
    fallback_rate = assets / FALLBACK_POLL_S
    read_rate = hooked.reads / hooked.seconds
    record(
        "webhook reads at provider",
        read_rate,
        "reads/s",
        baseline=round(fallback_rate, 2),
        goal="<= fallback poll rate",
        met=read_rate <= fallback_rate,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--latency", type=float, default=30.0, help="seconds per prediction")
    parser.add_argument("--slots", type=int, default=8, help="the worker's in-flight slots")
    parser.add_argument("--polling", action="store_true", help="also measure polling (slow)")
    args = parser.parse_args()
    asyncio.run(main(args.assets, args.latency, args.slots, args.polling))
