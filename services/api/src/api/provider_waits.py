"""Which assets wait for their provider (their newest event says `waiting_for: provider`),
read from the projector's live feed, and how the views show it.

The asset rows do not carry it: an asset is `retrying` either way; what it waits for is in
the event that made it so, which the feed keeps whole.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import asyncpg

from api.queries import ReadModelUnavailableError
from api.schemas import AssetView, LectureView, TimelineView
from shared.read_model.tables import ASSETS, FEED

PROVIDER = "provider"

_NEWEST_EVENT = f"""
    JOIN LATERAL (
        SELECT f.data FROM {FEED.qualified()} f
        WHERE f.lecture_id = a.lecture_id AND f.asset_id = a.asset_id AND f.applied
        ORDER BY f.seq DESC LIMIT 1
    ) newest ON true
    WHERE a.status = 'retrying' AND newest.data->>'waiting_for' = 'provider'
"""


class ProviderWaits:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def among(self, asset_ids: Collection[str]) -> set[str]:
        """The assets of `asset_ids` that wait for their provider."""
        if not asset_ids:
            return set()
        query = (
            f"SELECT a.asset_id FROM {ASSETS.qualified()} a {_NEWEST_EVENT} "
            "AND a.asset_id = ANY($1::text[])"
        )
        rows = await self._fetch(query, list(asset_ids))
        return {row["asset_id"] for row in rows}

    async def by_model(self) -> dict[str, int]:
        """How many assets wait, per model."""
        query = (
            f"SELECT a.model, count(*) AS n FROM {ASSETS.qualified()} a {_NEWEST_EVENT} GROUP BY 1"
        )
        return {row["model"]: int(row["n"]) for row in await self._fetch(query)}

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        try:
            return list(await self._pool.fetch(query, *args))
        except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
            raise ReadModelUnavailableError(str(exc)) from exc


def mark_asset(view: AssetView, waiting: Collection[str]) -> AssetView:
    if view.asset_id not in waiting:
        return view
    return view.model_copy(update={"waiting_for": PROVIDER})


def mark_lecture(view: LectureView, waiting: Collection[str]) -> LectureView:
    if not waiting:
        return view
    return view.model_copy(update={"assets": [mark_asset(a, waiting) for a in view.assets]})


def mark_timeline(view: TimelineView, waiting: Collection[str]) -> TimelineView:
    if not waiting:
        return view
    tracks = [
        track.model_copy(
            update={
                "clips": [
                    clip.model_copy(update={"waiting_for": PROVIDER})
                    if clip.asset_id in waiting
                    else clip
                    for clip in track.clips
                ]
            }
        )
        for track in view.tracks
    ]
    return view.model_copy(update={"tracks": tracks})
