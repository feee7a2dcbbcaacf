"""A 40 s provider outage in the middle of a 60-asset lecture, with
`MEDIA_GENERATION_RETRY_BASE_DELAY_S=1` (plain retries would be spent within 7 s): one image
worker following the real provider-health job, against the local Replicate-compatible server
(`POST /sim/faults {"mode": "outage", "for_s": 40}`). Records assets failed (goal: 0), the time
from the outage's start to the last asset generated (goal: <= outage + 30 s), how soon the
breaker opened (goal: <= 10 s) and the creates sent while it was open (goal: <= the half-open
probes). Needs the local Kafka and PostgreSQL (`make infra`).

    python bench/provider_outage.py [--assets 60] [--outage-s 40]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from pathlib import Path

from _results import record

from image_worker.medium import IMAGE
from provider_health.outage_run import run_outage
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database


async def main(assets: int, outage_s: float) -> None:
    run = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(topic_namespace=f"bench{run}.")
    with tempfile.TemporaryDirectory() as media:
        async with (
            serve_in_background(SimSettings(port=0)) as sim_url,
            fresh_database(PostgresSettings().dsn, f"bench_{run}") as dsn,
        ):
            result = await run_outage(
                sim_url=sim_url,
                kafka=kafka,
                dsn=dsn,
                media=Path(media),
                spec=IMAGE,
                assets=assets,
                outage_s=outage_s,
                start_after=assets // 4,
                max_in_flight=8,
                latency_s=2.0,
                within_s=outage_s + 240,
            )
    print(result.summary())
    record("outage_assets_failed", result.failed, "assets", goal="0", met=result.failed == 0)
    record(
        "outage_last_generated_s",
        result.last_outcome_s,
        "s",
        goal=f"<= {outage_s + 30:g} (outage + 30 s)",
        met=result.last_outcome_s <= outage_s + 30,
    )
    opened = result.opened_after_s
    record(
        "outage_breaker_opened_s",
        opened if opened is not None else -1,
        "s",
        goal="<= 10",
        met=opened is not None and opened <= 10,
    )
    record(
        "outage_creates_while_open",
        result.creates_in("open"),
        "creates",
        baseline=result.creates_in("half_open"),
        goal="<= creates in half-open (probes)",
        met=result.creates_in("open") <= result.creates_in("half_open"),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=60)
    parser.add_argument("--outage-s", type=float, default=40.0)
    args = parser.parse_args()
    asyncio.run(main(args.assets, args.outage_s))
