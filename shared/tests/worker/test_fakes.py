"""The in-memory generator times its attempts as a provider would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from shared.events import GenerateAsset
from shared.media import MediaKind
from shared.ports import Attempt
from shared.worker.fakes import InMemoryGenerator


def _command(asset_id: str = "a1") -> GenerateAsset:
    return GenerateAsset(
        command_id="c1",
        lecture_id="l1",
        asset_id=asset_id,
        kind=MediaKind.IMAGE,
        segment_id="s1",
        prompt_version=1,
        prompt="p",
        model="m",
        requested_at=datetime.now(UTC),
        correlation_id="corr",
    )


async def test_saving_the_created_prediction_does_not_make_an_attempt_longer() -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE, latency_s=0.3)

    async def slow_save(prediction_id: str) -> None:
        await asyncio.sleep(0.2)

    loop = asyncio.get_running_loop()
    began = loop.time()
    result = await generator.generate(Attempt(_command(), 1, on_created=slow_save))
    took = loop.time() - began

    assert result.ok
    assert 0.3 <= took < 0.45  # the prediction ran while its id was saved


async def test_a_generator_told_not_to_record_calls_only_counts_them() -> None:
    generator = InMemoryGenerator(MediaKind.IMAGE, record_calls=False)

    results = [await generator.generate(Attempt(_command(a), 1, None)) for a in ("a1", "a2")]

    assert generator.call_count == 2
    assert (generator.calls, generator.created) == ([], [])
    assert len({r.debug.prediction_id for r in results}) == 2
