"""`ReplicateGenerator` spending a process's account budget, with the real `replicate` client
against the local Replicate-compatible server under a `throttle` (DESIGN §8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from image_worker.medium import IMAGE
from replicate_sim.server import serve_in_background
from replicate_sim.settings import SimSettings
from shared.blobstore import FilesystemBlobStore
from shared.errors import ErrorCode
from shared.events import GenerateAsset
from shared.ports import Attempt
from shared.providers import (
    ReplicateGenerator,
    ReplicateOptions,
    close_replicate_client,
    replicate_client,
)
from shared.providers.budget import AccountBudget, BudgetLimits, Call
from shared.results import GenerationFailed, GenerationSucceeded
from shared.settings import ProviderSettings


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with serve_in_background(SimSettings(port=0, default_latency_s=0.05)) as url:
        yield url


@pytest.fixture
async def sim_http(sim_url: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": "Bearer test-token"}
    async with httpx.AsyncClient(base_url=sim_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def downloads() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def _generate(
    sim_url: str,
    downloads: httpx.AsyncClient,
    media: Path,
    budget: AccountBudget,
    prompts: list[str],
    poll_interval_s: float | None = 0.05,
) -> list[GenerationSucceeded | GenerationFailed]:
    settings = ProviderSettings(
        api_token="test-token", base_url=sim_url, poll_interval_s=poll_interval_s, deadline_s=30
    )
    client = replicate_client(settings, budget=budget)
    generator = ReplicateGenerator(
        client,
        IMAGE,
        FilesystemBlobStore(media),
        downloads,
        ReplicateOptions.from_settings(settings),
        budget=budget,
    )
    attempts = [
        Attempt(
            command=GenerateAsset(
                command_id=f"c{n}",
                lecture_id="l1",
                asset_id=f"a{n}",
                kind=IMAGE.kind,
                prompt_version=1,
                prompt=prompt,
                model="",
                requested_at=datetime(2026, 1, 1, tzinfo=UTC),
                correlation_id="k1",
            ),
            number=1,
        )
        for n, prompt in enumerate(prompts)
    ]
    try:
        results = await asyncio.gather(*(generator.generate(a) for a in attempts))
    finally:
        await close_replicate_client(client)
    return [r for r in results if isinstance(r, GenerationSucceeded | GenerationFailed)]


async def test_creates_throttled_at_our_own_rate_are_sent_again_within_the_attempt(
    sim_url: str, sim_http: httpx.AsyncClient, downloads: httpx.AsyncClient, tmp_path: Path
) -> None:
    # the account allows 2 creates a second; this process's budget claims 10, three at once
    throttle = {"mode": "throttle", "creates_per_min": 120, "reads_per_min": 6000, "burst_s": 1}
    await sim_http.post("/sim/faults", json=throttle)
    budget = AccountBudget(BudgetLimits(creates_per_min=600, reads_per_min=6000), burst_s=0.3)
    results = await _generate(
        sim_url, downloads, tmp_path, budget, [f"busy harbour {n}" for n in range(8)]
    )
    assert all(isinstance(result, GenerationSucceeded) for result in results)
    assert len(results) == 8
    stats = (await sim_http.get("/sim/stats")).json()
    assert stats["served"]["throttled"] >= 1
    assert budget.throttled_count[Call.CREATE] == stats["served"]["throttled"]
    assert stats["total_creates"] == 8 + stats["served"]["throttled"]


async def test_an_answer_saying_the_window_is_used_up_holds_creates_before_any_429(
    sim_url: str, sim_http: httpx.AsyncClient, downloads: httpx.AsyncClient, tmp_path: Path
) -> None:
    # the account allows a burst of 2 creates, then one a second; the budget claims 10 a second
    throttle = {"mode": "throttle", "creates_per_min": 60, "reads_per_min": 6000, "burst_s": 2}
    await sim_http.post("/sim/faults", json=throttle)
    budget = AccountBudget(BudgetLimits(creates_per_min=600, reads_per_min=6000))
    for n in range(4):  # one after the other: the budget never has to wait for itself
        (result,) = await _generate(sim_url, downloads, tmp_path, budget, [f"steady tide {n}"])
        assert isinstance(result, GenerationSucceeded)
    assert (await sim_http.get("/sim/stats")).json()["served"]["throttled"] == 0
    assert budget.throttled_count[Call.CREATE] == 0


async def test_a_429_while_the_process_is_idle_still_fails_the_attempt(
    sim_url: str, sim_http: httpx.AsyncClient, downloads: httpx.AsyncClient, tmp_path: Path
) -> None:
    budget = AccountBudget(BudgetLimits.shared_out(4))
    (result,) = await _generate(
        sim_url, downloads, tmp_path, budget, ["a lone gull [[sim:rate-limit x1 after=3]]"]
    )
    assert isinstance(result, GenerationFailed)
    assert (result.error.code, result.error.retry_after_s) == (ErrorCode.RATE_LIMITED, 3.0)
    assert (await sim_http.get("/sim/stats")).json()["total_creates"] == 1


async def test_within_its_budget_a_process_is_never_throttled(
    sim_url: str, sim_http: httpx.AsyncClient, downloads: httpx.AsyncClient, tmp_path: Path
) -> None:
    throttle = {"mode": "throttle", "creates_per_min": 240, "reads_per_min": 600, "burst_s": 1}
    await sim_http.post("/sim/faults", json=throttle)
    budget = AccountBudget(BudgetLimits(creates_per_min=240, reads_per_min=600), burst_s=0.5)
    prompts = [f"calm harbour {n}" for n in range(10)]
    results = await _generate(sim_url, downloads, tmp_path, budget, prompts)
    assert all(isinstance(result, GenerationSucceeded) for result in results)
    served = (await sim_http.get("/sim/stats")).json()["served"]
    assert served["throttled"] == 0
    assert served["creates"] == 10


async def test_without_a_fixed_interval_an_image_is_checked_less_and_less_often(
    sim_url: str, sim_http: httpx.AsyncClient, downloads: httpx.AsyncClient, tmp_path: Path
) -> None:
    budget = AccountBudget(BudgetLimits.shared_out(4))
    prompt = "a slow sketch [[sim:latency=3.2]]"
    (result,) = await _generate(sim_url, downloads, tmp_path, budget, [prompt], None)
    assert isinstance(result, GenerationSucceeded)
    # checked after 0.5, 1.25, 2.4 and 4.1 s: four reads, where one every 0.5 s made seven
    assert (await sim_http.get("/sim/stats")).json()["served"] == {
        "creates": 1,
        "reads": 4,
        "throttled": 0,
        "unavailable": 0,
    }
