"""A lecture's worth of requests through real media workers while the local Replicate-compatible
server enforces an account's rate limits (`POST /sim/faults {"mode": "throttle"}`), measured
from the server's own counts. Used by the integration test (a few dozen assets) and by
`bench/provider_throttle.py` (the full-size run).

Each worker runs in this process with its own account budget, as separate worker processes
would: its share of the account's limits (`BudgetLimits`), spent by every call its client makes.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shared import topics
from shared.events import AssetGenerated, GenerateAsset
from shared.kafka import TopicSettings
from shared.providers import MediumSpec
from shared.providers.budget import BudgetLimits
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.worker.entry import WorkerConfig, open_replicate_generator, open_worker
from shared.worker.settings import WorkerSettings
from shared.worker.testing import EventLog, command_record, produce, running


@dataclass(frozen=True, slots=True)
class Account:
    """The limits the server enforces for the whole account."""

    creates_per_min: float
    reads_per_min: float


@dataclass(frozen=True, slots=True)
class ThrottledRun:
    """What one run measured."""

    assets: int
    generated: int
    retried: int
    """Assets that needed more than one attempt."""
    elapsed_s: float
    creates: int
    reads: int
    throttled: int

    @property
    def requests(self) -> int:
        return self.creates + self.reads

    @property
    def throttled_share(self) -> float:
        """429 answers as a share of every request the server answered."""
        return self.throttled / self.requests if self.requests else 0.0

    @property
    def creates_per_min(self) -> float:
        return self.creates / self.elapsed_s * 60

    @property
    def reads_per_min(self) -> float:
        return self.reads / self.elapsed_s * 60

    def summary(self) -> str:
        return (
            f"{self.generated}/{self.assets} generated ({self.retried} retried) in "
            f"{self.elapsed_s:.1f} s: {self.creates} creates ({self.creates_per_min:.1f}/min), "
            f"{self.reads} reads ({self.reads_per_min:.1f}/min), {self.throttled} answered 429 "
            f"({self.throttled_share:.2%} of {self.requests} requests)"
        )


def _commands(specs: Sequence[MediumSpec], assets: int, run: str) -> list[GenerateAsset]:
    now = datetime.now(UTC)
    return [
        GenerateAsset(
            command_id=f"{run}-c{n}",
            lecture_id=f"{run}-lecture",
            asset_id=f"{run}-a{n}",
            kind=specs[n % len(specs)].kind,
            prompt_version=1,
            prompt=f"harbour at dusk, part {n}",
            model="",
            requested_at=now,
            correlation_id=f"{run}-corr",
        )
        for n in range(assets)
    ]


async def run_throttled(
    *,
    sim_url: str,
    kafka: KafkaSettings,
    dsn: str,
    media: Path,
    specs: Sequence[MediumSpec],
    assets: int,
    account: Account,
    within_s: float,
) -> ThrottledRun:
    """Throttle the server to `account`, send `assets` requests spread over one worker per
    spec (each with an even share of the account's limits), and measure until every asset
    has an outcome."""
    share = BudgetLimits(account.creates_per_min / len(specs), account.reads_per_min / len(specs))
    run = uuid.uuid4().hex[:8]
    ns = kafka.topic_namespace
    async with httpx.AsyncClient(base_url=sim_url, timeout=10) as sim:
        throttle = {
            "mode": "throttle",
            "creates_per_min": account.creates_per_min,
            "reads_per_min": account.reads_per_min,
        }
        (await sim.post("/sim/faults", json=throttle)).raise_for_status()
        async with contextlib.AsyncExitStack() as stack:
            workers = []
            for spec in specs:
                provider = ProviderSettings(
                    base_url=sim_url,
                    api_token="test",
                    creates_per_min=share.creates_per_min,
                    reads_per_min=share.reads_per_min,
                )
                generator = await stack.enter_async_context(
                    open_replicate_generator(spec, provider, BlobSettings(root=media))
                )
                config = WorkerConfig(
                    worker=WorkerSettings(group_id=f"w{run}-{spec.kind}", commit_interval_s=0.2),
                    kafka=kafka,
                    policy=RetrySettings(base_delay_s=1.0, max_tier_s=30).policy(),
                    postgres=PostgresSettings(dsn=dsn),
                    topics=TopicSettings(request_partitions=4, tier_partitions=2),
                )
                workers.append(
                    await stack.enter_async_context(open_worker(spec.kind, generator, config))
                )
            log = await stack.enter_async_context(EventLog(kafka, topics.events(ns)))
            await stack.enter_async_context(running(*workers))
            commands = _commands(specs, assets, run)
            ids = [command.asset_id for command in commands]
            started = time.monotonic()
            await produce(kafka, [command_record(command, ns) for command in commands])
            await log.wait_for(lambda: log.ended(*ids), within_s, "an outcome for every asset")
            elapsed = time.monotonic() - started
            served = (await sim.get("/sim/stats")).json()["served"]
        await sim.delete("/sim/faults")
    outcomes = [log.outcomes(asset_id)[0] for asset_id in ids]
    generated = [o for o in outcomes if isinstance(o, AssetGenerated)]
    return ThrottledRun(
        assets=assets,
        generated=len(generated),
        retried=sum(1 for o in generated if o.attempts > 1),
        elapsed_s=elapsed,
        creates=int(served["creates"]),
        reads=int(served["reads"]),
        throttled=int(served["throttled"]),
    )
