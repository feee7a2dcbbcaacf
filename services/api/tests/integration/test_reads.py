"""Reads over the projector's views, with the real projector running."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

KEY = "ab/ab" + "1" * 62 + ".png"
LECTURE = {
    "title": "Volcanoes",
    "segments": [
        {
            "segment_id": "s1",
            "title": "Magma",
            "duration_s": 10,
            "image": {"prompt": "a volcano"},
            "narration": {"text": "Magma rises."},
        },
        {"segment_id": "s2", "duration_s": 5, "video": {"prompt": "lava"}},
    ],
    "music": {"prompt": "drums"},
}


async def create(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/v1/lectures", json=LECTURE)
    assert response.status_code == 202
    accepted: dict[str, Any] = response.json()
    return accepted


def by_kind(accepted: dict[str, Any]) -> dict[str, Any]:
    return {asset["kind"]: asset for asset in accepted["assets"]}


async def test_a_new_lecture_reads_back_with_every_asset_pending(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    accepted = await create(client)
    lecture_id = accepted["lecture_id"]

    response = await client.get(f"/v1/lectures/{lecture_id}?wait_for={accepted['event_id']}")

    assert response.status_code == 200
    lecture = response.json()
    assert lecture["title"] == "Volcanoes"
    assert lecture["duration_s"] == 15
    assert [(s["segment_id"], s["start_s"], s["title"]) for s in lecture["segments"]] == [
        ("s1", 0, "Magma"),
        ("s2", 10, None),
    ]
    assert [a["asset_id"] for a in lecture["assets"]] == [a["asset_id"] for a in accepted["assets"]]
    assert {a["status"] for a in lecture["assets"]} == {"pending"}
    assert lecture["counts"] == {
        "pending": 4,
        "retrying": 0,
        "generated": 0,
        "needs_prompt_update": 0,
        "failed": 0,
    }


async def test_the_timeline_has_a_clip_per_asset_whatever_its_status(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    accepted = await create(client)
    lecture_id = accepted["lecture_id"]
    assets = by_kind(accepted)
    await emit(asset_events(lecture_id, assets["image"]).generated(KEY))
    last = await emit(asset_events(lecture_id, assets["narration"]).failed())

    response = await client.get(f"/v1/lectures/{lecture_id}/timeline?wait_for={last}")

    assert response.status_code == 200
    timeline = response.json()
    assert timeline["lecture_id"] == lecture_id
    assert timeline["duration_s"] == 15
    tracks = {track["kind"]: track["clips"] for track in timeline["tracks"]}
    assert list(tracks) == ["visual", "video", "narration", "music"]
    [image] = tracks["visual"]
    assert (image["status"], image["media_url"], image["missing_reason"]) == (
        "generated",
        f"/media/{KEY}",
        None,
    )
    assert (image["start_s"], image["duration_s"]) == (0, 10)
    [narration] = tracks["narration"]
    assert narration["status"] == "failed"
    assert narration["missing_reason"] == "failed"
    assert narration["error"]["code"] == "SENSITIVE_CONTENT"
    assert narration["error"]["provider_code"] == "E005"
    [video] = tracks["video"]
    assert (video["start_s"], video["duration_s"], video["missing_reason"]) == (10, 5, "pending")
    [music] = tracks["music"]
    assert (music["start_s"], music["duration_s"], music["segment_id"]) == (0, 15, None)
    assert set(image) == {
        "clip_id",
        "asset_id",
        "segment_id",
        "start_s",
        "duration_s",
        "status",
        "error",
        "missing_reason",
        "media_url",
        "waiting_for",
    }


async def test_assets_can_be_filtered_by_status(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    accepted = await create(client)
    lecture_id = accepted["lecture_id"]
    narration = by_kind(accepted)["narration"]
    last = await emit(asset_events(lecture_id, narration).failed())

    failed = await client.get(f"/v1/lectures/{lecture_id}/assets?status=failed&wait_for={last}")
    pending = await client.get(f"/v1/lectures/{lecture_id}/assets?status=pending")
    everything = await client.get(f"/v1/lectures/{lecture_id}/assets")

    assert [a["asset_id"] for a in failed.json()["assets"]] == [narration["asset_id"]]
    assert len(pending.json()["assets"]) == 3
    assert len(everything.json()["assets"]) == 4


async def test_an_asset_reads_with_its_error_and_attempt_history(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    accepted = await create(client)
    lecture_id = accepted["lecture_id"]
    narration = by_kind(accepted)["narration"]
    events = asset_events(lecture_id, narration, prompt="Magma rises.")
    await emit(events.started(1))
    await emit(events.retrying(1))
    await emit(events.started(2))
    last = await emit(events.failed(attempts=2))

    response = await client.get(f"/v1/assets/{narration['asset_id']}?wait_for={last}")

    assert response.status_code == 200
    asset = response.json()
    assert {k: asset[k] for k in ("asset_id", "lecture_id", "segment_id", "kind")} == {
        "asset_id": narration["asset_id"],
        "lecture_id": lecture_id,
        "segment_id": "s1",
        "kind": "narration",
    }
    assert asset["status"] == "failed"
    assert asset["prompt"] == "Magma rises."
    assert asset["model"] == "acme/model"  # as the worker reported it
    assert asset["params"] == {}
    assert asset["prompt_version"] == 1
    assert asset["media_url"] is None
    assert asset["error"] == {
        "code": "SENSITIVE_CONTENT",
        "message": "The input or output was flagged as sensitive. Please try again with "
        "different inputs. (E005)",
        "provider": "replicate",
        "provider_code": "E005",
        "retryable": False,
        "user_action_required": True,
        "retry_after_s": None,
    }
    assert [(a["prompt_version"], a["attempt"]) for a in asset["attempts"]] == [(1, 1), (1, 2)]
    assert [a["outcome"] for a in asset["attempts"]] == ["retrying", "failed"]
    assert asset["attempts"][0]["error"]["code"] == "TRANSIENT_PROVIDER_ERROR"
    assert asset["retried_count"] == 1
    assert "duration_s" in asset


@pytest.mark.parametrize(
    "path",
    [
        "/v1/lectures/unknown",
        "/v1/lectures/unknown/timeline",
        "/v1/lectures/unknown/assets",
        "/v1/lectures/unknown/events",
        "/v1/assets/unknown",
    ],
)
async def test_unknown_ids_are_404_problems(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["instance"] == path


async def test_an_unknown_status_filter_is_422_naming_the_parameter(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    response = await client.get("/v1/lectures/x/assets?status=lost")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.status"]


async def test_waiting_for_an_event_that_never_comes_is_503_with_retry_after(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process, app: FastAPI
) -> None:
    app.state.settings.wait_for_timeout_s = 0.2

    response = await client.get("/v1/lectures/x?wait_for=no-such-event")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
