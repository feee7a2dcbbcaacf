"""A lecture's worth of requests through a real media worker and the real provider-health job
while the local Replicate-compatible server has a provider-wide outage (`POST /sim/faults
{"mode": "outage"}`), measured from the event log, the health topic and the server's counts.
Used by the integration tests (a shortened run) and `bench/provider_outage.py` (full size).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from provider_health.testing import HealthProcess
from shared import topics
from shared.envelope import decode
from shared.events import AssetFailed, AssetGenerated, GenerateAsset, ProviderHealthChanged
from shared.health.board import CircuitBoard
from shared.health.follower import following
from shared.kafka import TopicSettings
from shared.providers import MediumSpec
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
from shared.worker.testing import EventLog, command_record, produce, running


@dataclass(frozen=True, slots=True)
class Change:
    """A circuit change as the run saw it: seconds since the outage began, creates so far."""

    state: str
    at_s: float
    creates: int


@dataclass(frozen=True, slots=True)
class OutageRun:
    assets: int
    outage_s: float
    generated: int
    failed: int
    failures: list[str]
    last_outcome_s: float
    """Seconds from the outage's start to the last asset's outcome."""
    changes: list[Change]
    creates_total: int
    retried_assets: int = 0

    @property
    def opened_after_s(self) -> float | None:
        return next((c.at_s for c in self.changes if c.state == "open"), None)

    def creates_in(self, state: str) -> int:
        """Creates the server saw while the circuit was in `state`."""
        total = 0
        for change, following_change in zip(self.changes, self.changes[1:], strict=False):
            if change.state == state:
                total += following_change.creates - change.creates
        return total

    def summary(self) -> str:
        return (
            f"{self.assets} assets, {self.outage_s:g} s outage: {self.generated} generated, "
            f"{self.failed} failed, last outcome {self.last_outcome_s:.1f} s after the outage "
            f"began; breaker opened after {self.opened_after_s} s; creates while open "
            f"{self.creates_in('open')}, in half-open {self.creates_in('half_open')}, total "
            f"{self.creates_total}; states "
            + " → ".join(f"{c.state}@{c.at_s:.1f}s" for c in self.changes)
        )


@dataclass
class _Watch:
    began: float | None = None
    changes: list[Change] = field(default_factory=list)


@contextlib.asynccontextmanager
async def _watching_health(
    kafka: KafkaSettings, sim: httpx.AsyncClient, watch: _Watch
) -> AsyncIterator[None]:
    reader = AIOKafkaConsumer(
        topics.provider_health(kafka.topic_namespace),
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await reader.start()

    async def follow() -> None:
        while True:
            batch = await reader.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    change = decode(record.value, record.headers).payload
                    assert isinstance(change, ProviderHealthChanged)
                    creates = int((await sim.get("/sim/stats")).json()["served"]["creates"])
                    at = time.monotonic() - (watch.began or time.monotonic())
                    watch.changes.append(Change(change.state, at, creates))

    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await reader.stop()


async def run_outage(
    *,
    sim_url: str,
    kafka: KafkaSettings,
    dsn: str,
    media: Path,
    spec: MediumSpec,
    assets: int,
    outage_s: float,
    start_after: int,
    max_in_flight: int,
    max_outage_s: float = 1800,
    latency_s: float = 2.0,
    within_s: float = 300,
    health_env: dict[str, str] | None = None,
) -> OutageRun:
    """Send `assets` requests; once `start_after` are generated, the provider goes down for
    `outage_s`; measure until every asset has an outcome."""
    run = uuid.uuid4().hex[:8]
    ns = kafka.topic_namespace
    model = spec.default_model
    health = HealthProcess(kafka.bootstrap_servers, ns, media / "health", **(health_env or {}))
    watch = _Watch()
    async with (
        httpx.AsyncClient(base_url=sim_url, timeout=10) as sim,
        contextlib.AsyncExitStack() as stack,
    ):
        stack.callback(health.kill)
        health.start()
        board = await stack.enter_async_context(following(kafka, CircuitBoard()))
        await health.ready()
        provider = ProviderSettings(base_url=sim_url, api_token="test")
        generator = await stack.enter_async_context(
            open_replicate_generator(spec, provider, BlobSettings(root=media))
        )
        config = WorkerConfig(
            worker=WorkerSettings(
                group_id=f"w{run}", commit_interval_s=0.2, max_in_flight=max_in_flight
            ),
            kafka=kafka,
            policy=RetrySettings(base_delay_s=1.0, max_tier_s=30).policy(),
            postgres=PostgresSettings(dsn=dsn),
            topics=TopicSettings(request_partitions=4, tier_partitions=2),
        )
        hold = HoldSettings(max_outage_s=max_outage_s, recheck_s=0.5)
        worker = await stack.enter_async_context(
            open_worker(spec.kind, generator, config, holding=Holding(board, hold, spec.model_for))
        )
        log = await stack.enter_async_context(EventLog(kafka, topics.events(ns)))
        await stack.enter_async_context(_watching_health(kafka, sim, watch))
        await stack.enter_async_context(running(worker))
        now = datetime.now(UTC)
        commands = [
            GenerateAsset(
                command_id=f"{run}-c{n}",
                lecture_id=f"{run}-lecture",
                asset_id=f"{run}-a{n}",
                kind=spec.kind,
                prompt_version=1,
                prompt=f"lighthouse in fog, part {n} [[sim:latency={latency_s}]]",
                model=model,
                requested_at=now,
                correlation_id=f"{run}-corr",
            )
            for n in range(assets)
        ]
        ids = [c.asset_id for c in commands]
        await produce(kafka, [command_record(c, ns) for c in commands])

        def generated() -> int:
            return sum(
                1 for i in ids if any(isinstance(o, AssetGenerated) for o in log.outcomes(i))
            )

        await log.wait_for(lambda: generated() >= start_after, within_s, "the first assets")
        (
            await sim.post("/sim/faults", json={"mode": "outage", "for_s": outage_s})
        ).raise_for_status()
        watch.began = time.monotonic()
        await log.wait_for(lambda: log.ended(*ids), within_s, "an outcome for every asset")
        last = time.monotonic() - watch.began
        creates_total = int((await sim.get("/sim/stats")).json()["served"]["creates"])
        await sim.delete("/sim/faults")
    outcomes = [log.outcomes(i)[0] for i in ids]
    failed = [o for o in outcomes if isinstance(o, AssetFailed)]
    done = [o for o in outcomes if isinstance(o, AssetGenerated)]
    return OutageRun(
        assets=assets,
        outage_s=outage_s,
        generated=len(done),
        failed=len(failed),
        failures=[o.error.message for o in failed],
        last_outcome_s=last,
        changes=list(watch.changes),
        creates_total=creates_total,
        retried_assets=sum(1 for o in done if o.retried_count > 0),
    )
