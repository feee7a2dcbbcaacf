"""Under an account's rate limits (the local server's `throttle`: 60 creates and 300 reads a
minute), media workers sharing the account stay within them: every asset is generated, almost
no request is answered 429, and none needs a second attempt. The full-size run (200 assets) is
`bench/provider_throttle.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from audio_worker.medium import NARRATION
from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared.settings import KafkaSettings
from shared.testing.throttled_run import Account, run_throttled

pytestmark = pytest.mark.integration

ASSETS = 30
"""At 60 creates a minute, about half a minute of creates."""


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=1.5)) as url:
        yield url


async def test_workers_sharing_a_throttled_account_stay_within_its_limits(
    kafka_bootstrap: str, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    result = await run_throttled(
        sim_url=sim_url,
        kafka=kafka,
        dsn=pg_database,
        media=tmp_path,
        specs=[IMAGE, NARRATION],
        assets=ASSETS,
        account=Account(creates_per_min=60, reads_per_min=300),
        within_s=90,
    )
    print(result.summary())
    assert result.generated == ASSETS
    assert result.retried == 0
    assert result.creates == ASSETS
    assert result.throttled_share <= 0.01
    assert result.reads_per_min <= 300
