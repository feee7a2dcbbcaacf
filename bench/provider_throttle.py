"""A lecture of 200 assets while the provider account allows 60 creates and 300 reads a
minute: the workers' account budgets keep them within it.

The local Replicate-compatible server runs in this process with a `throttle` fault; an image
worker and a narration worker (each with half of the account's limits, as two worker processes
sharing one token would have by default) take the requests from Kafka. Figures: assets
generated, the share of requests answered 429, and the creates and reads per minute the server
saw. Goals: every asset generated, 429s at most 1 % of requests, no second attempts.

Needs the local Kafka and PostgreSQL (`make infra`); `KAFKA_BOOTSTRAP_SERVERS` and
`DATABASE_URL` override where they are. Everything it creates is removed at the end.

    python bench/provider_throttle.py [--assets 200] [--creates-per-min 60] [--reads-per-min 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from pathlib import Path

from _results import record

from audio_worker.medium import NARRATION
from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared.kafka import make_admin
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database
from shared.testing.throttled_run import Account, run_throttled

SIM_LATENCY_S = 1.5
"""How long each prediction takes on the local server."""


async def _delete_topics(kafka: KafkaSettings) -> None:
    admin = make_admin(kafka)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(kafka.topic_namespace)]
        await admin.delete_topics(mine)
    finally:
        await admin.close()


async def main(assets: int, account: Account) -> None:
    run = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(topic_namespace=f"bench{run}.")
    # room for the creates at the account's rate, and as long again for everything else
    within_s = 2 * 60 * assets / account.creates_per_min + 60
    try:
        with tempfile.TemporaryDirectory() as media:
            async with (
                fresh_database(PostgresSettings().dsn, f"bench_{run}") as dsn,
                serve_in_background(SimSettings(port=0, default_latency_s=SIM_LATENCY_S)) as sim,
            ):
                result = await run_throttled(
                    sim_url=sim,
                    kafka=kafka,
                    dsn=dsn,
                    media=Path(media),
                    specs=[IMAGE, NARRATION],
                    assets=assets,
                    account=account,
                    within_s=within_s,
                )
    finally:
        await _delete_topics(kafka)
    print(result.summary())
    limit = f"<= {account.creates_per_min:g}/min +5 %"  # the opening burst
    record(
        "throttle_generated",
        result.generated,
        "assets",
        goal=f"{assets}",
        met=result.generated == assets,
    )
    record(
        "throttle_429_share",
        result.throttled_share * 100,
        "%",
        goal="<= 1 %",
        met=result.throttled_share <= 0.01,
    )
    record("throttle_retried", result.retried, "assets", goal="0", met=result.retried == 0)
    record(
        "throttle_creates_per_min",
        result.creates_per_min,
        "/min",
        goal=limit,
        met=result.creates_per_min <= account.creates_per_min * 1.05,
    )
    record(
        "throttle_reads_per_min",
        result.reads_per_min,
        "/min",
        goal=f"<= {account.reads_per_min:g}/min",
        met=result.reads_per_min <= account.reads_per_min,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--creates-per-min", type=float, default=60)
    parser.add_argument("--reads-per-min", type=float, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.assets, Account(args.creates_per_min, args.reads_per_min)))
