"""A provider-wide outage (the local server's `outage`) in the middle of a lecture, with
`MEDIA_GENERATION_RETRY_BASE_DELAY_S=1` (plain retries would be spent in 7 s): the real
provider-health job opens the model's circuit, the worker holds its attempts, and every asset
is generated once the provider is back. An outage longer than `MEDIA_GENERATION_MAX_OUTAGE_S`
ends the held assets `failed` with a message that says so. The full-size run (60 assets, 40 s)
is `bench/provider_outage.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from image_worker.medium import IMAGE
from provider_health.outage_run import run_outage
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=1.0)) as url:
        yield url


def _kafka(bootstrap: str, unique_name: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap, topic_namespace=f"t{unique_name}.")


@pytest.mark.timeout(400)
async def test_an_outage_in_the_middle_of_a_lecture_fails_no_asset(
    kafka_bootstrap: str, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    outage_s = 12.0
    result = await run_outage(
        sim_url=sim_url,
        kafka=_kafka(kafka_bootstrap, unique_name),
        dsn=pg_database,
        media=tmp_path,
        spec=IMAGE,
        assets=16,
        outage_s=outage_s,
        start_after=4,
        max_in_flight=4,
    )
    print(result.summary())

    assert (result.generated, result.failed) == (16, 0), result.failures
    assert result.last_outcome_s <= outage_s + 30
    assert result.opened_after_s is not None
    assert result.opened_after_s <= 10
    assert result.creates_in("open") <= result.creates_in("half_open")


@pytest.mark.timeout(400)
async def test_an_outage_longer_than_the_maximum_wait_ends_the_held_assets_failed(
    kafka_bootstrap: str, pg_database: str, sim_url: str, unique_name: str, tmp_path: Path
) -> None:
    result = await run_outage(
        sim_url=sim_url,
        kafka=_kafka(kafka_bootstrap, unique_name),
        dsn=pg_database,
        media=tmp_path,
        spec=IMAGE,
        assets=8,
        outage_s=120,
        start_after=2,
        max_in_flight=4,
        max_outage_s=6,
    )
    print(result.summary())

    assert result.generated + result.failed == 8  # nothing stays retrying
    assert result.failed >= 4
    assert all("provider was unavailable" in message for message in result.failures)
