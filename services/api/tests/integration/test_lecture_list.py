"""`GET /v1/lectures`: newest first, counts per status, cursor paging; `GET /v1/models`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration


def lecture(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "segments": [
            {"segment_id": "s1", "duration_s": 5, "image": {"prompt": f"{title}, a map"}},
            {"segment_id": "s2", "duration_s": 5, "narration": {"text": f"About {title}."}},
        ],
    }


async def create(client: httpx.AsyncClient, title: str) -> dict[str, Any]:
    response = await client.post("/v1/lectures", json=lecture(title))
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    seen = await client.get(
        f"/v1/lectures/{accepted['lecture_id']}?wait_for={accepted['event_id']}"
    )
    assert seen.status_code == 200
    return accepted


async def test_the_list_pages_through_lectures_newest_first_with_counts_per_status(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    first, second, third = [await create(client, t) for t in ("Tides", "Winds", "Dunes")]
    failed = asset_events(second["lecture_id"], second["assets"][0]).failed()
    event_id = await emit(failed)
    assert (await client.get(f"/v1/lectures/{second['lecture_id']}?wait_for={event_id}")).is_success

    page = (await client.get("/v1/lectures?limit=2")).json()

    assert [(x["lecture_id"], x["title"]) for x in page["lectures"]] == [
        (third["lecture_id"], "Dunes"),
        (second["lecture_id"], "Winds"),
    ]
    assert page["lectures"][0]["counts"] == {
        "pending": 2,
        "retrying": 0,
        "generated": 0,
        "needs_prompt_update": 0,
        "failed": 0,
    }
    assert page["lectures"][1]["counts"]["failed"] == 1
    assert page["lectures"][1]["counts"]["pending"] == 1
    assert page["lectures"][0]["duration_s"] == 10
    assert page["next_cursor"]

    rest = await client.get("/v1/lectures", params={"limit": 2, "cursor": page["next_cursor"]})
    assert rest.status_code == 200
    assert [x["lecture_id"] for x in rest.json()["lectures"]] == [first["lecture_id"]]
    assert rest.json()["next_cursor"] is None


async def test_a_cursor_the_api_did_not_hand_out_is_a_422_problem(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    response = await client.get("/v1/lectures", params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize("limit", [0, 101])
async def test_a_limit_outside_1_to_100_is_refused(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process, limit: int
) -> None:
    response = await client.get("/v1/lectures", params={"limit": limit})

    assert response.status_code == 422


async def test_the_list_needs_a_token(
    anonymous: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    response = await anonymous.get("/v1/lectures")

    assert response.status_code == 401


async def test_the_models_route_offers_the_registrys_models_of_each_medium_default_first(
    client: httpx.AsyncClient,
) -> None:
    media = (await client.get("/v1/models")).json()["media"]

    assert set(media) == {"image", "narration", "video", "music"}
    assert media["image"]["default"] == "black-forest-labs/flux-schnell"
    assert "black-forest-labs/flux-1.1-pro" in media["image"]["models"]
    assert "google/veo-3" in media["video"]["models"]
    assert "minimax/video-01" not in media["image"]["models"]
    for choice in media.values():
        assert choice["models"][0] == choice["default"]
        assert len(set(choice["models"])) == len(choice["models"])
