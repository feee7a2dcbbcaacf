"""The API reads the read model typed: every column of a view row comes back as the type its
row declares (`shared.read_model.rows`), with the real projector writing the rows."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from typing import Any, Union, get_args, get_origin, get_type_hints

import asyncpg
import httpx
import pytest

from api.queries import ReadModel
from api.settings import ApiSettings
from api.views import asset_view
from shared.read_model.rows import AssetRow, AttemptRow, LectureRow, SegmentRow

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

KEY = "cd/cd" + "2" * 62 + ".png"
LECTURE = {
    "title": "Glaciers",
    "segments": [
        {"segment_id": "s1", "duration_s": 8, "image": {"prompt": "ice", "params": {"seed": 3}}},
        {"segment_id": "s2", "duration_s": 4, "narration": {"text": "Ice flows."}},
    ],
}


@pytest.fixture
async def reads(api_settings: ApiSettings) -> AsyncIterator[ReadModel]:
    pool = await asyncpg.create_pool(api_settings.postgres.dsn, min_size=1, max_size=2)
    try:
        yield ReadModel(pool)
    finally:
        await pool.close()


def _admits(hint: Any, value: object) -> bool:
    """Whether `value` is of the field type `hint` (`X | None`, `dict[str, Any]` …)."""
    if get_origin(hint) in (Union, types.UnionType):
        return any(_admits(arg, value) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    return isinstance(value, get_origin(hint) or hint)


def _wrongly_typed(row: tuple[Any, ...]) -> dict[str, object]:
    """The fields of `row` whose value is not of the type its row type declares."""
    hints = get_type_hints(type(row))
    fields: tuple[str, ...] = row._fields  # type: ignore[attr-defined]
    return {
        name: value
        for name, value in zip(fields, row, strict=True)
        if not _admits(hints[name], value)
    }


async def test_every_column_the_api_reads_comes_back_as_its_rows_declared_type(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
    reads: ReadModel,
) -> None:
    response = await client.post("/v1/lectures", json=LECTURE)
    accepted = response.json()
    lecture_id = accepted["lecture_id"]
    image, narration = accepted["assets"]
    await emit(asset_events(lecture_id, image).started(1))
    await emit(asset_events(lecture_id, image).generated(KEY))
    last = await emit(asset_events(lecture_id, narration).failed())
    assert (await client.get(f"/v1/lectures/{lecture_id}?wait_for={last}")).status_code == 200

    lecture = await reads.lecture(lecture_id)
    segments = await reads.segments(lecture_id)
    assets = await reads.assets(lecture_id)
    attempts = await reads.attempts(image["asset_id"])

    assert isinstance(lecture, LectureRow)
    assert all(isinstance(s, SegmentRow) for s in segments)
    assert all(isinstance(a, AssetRow) for a in assets)
    assert all(isinstance(a, AttemptRow) for a in attempts)
    for row in [lecture, *segments, *assets, *attempts]:
        assert _wrongly_typed(row) == {}, type(row).__name__
    generated, failed = assets
    assert generated.params == {"seed": 3}
    assert isinstance(generated.media_size_bytes, int)
    assert failed.error is not None
    assert failed.error["code"] == "SENSITIVE_CONTENT"


async def test_an_asset_row_read_typed_is_what_the_asset_route_answers(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
    reads: ReadModel,
) -> None:
    response = await client.post("/v1/lectures", json=LECTURE)
    accepted = response.json()
    image = accepted["assets"][0]
    await emit(asset_events(accepted["lecture_id"], image).started(1))
    last = await emit(asset_events(accepted["lecture_id"], image).generated(KEY))
    answer = await client.get(f"/v1/assets/{image['asset_id']}?wait_for={last}")

    row = await reads.asset(image["asset_id"])
    assert row is not None

    view = asset_view(row, await reads.attempts(image["asset_id"]))
    assert view.model_dump(mode="json") == answer.json()
