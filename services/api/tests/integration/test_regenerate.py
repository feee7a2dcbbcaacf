"""Regeneration: a new prompt_version at pending; one pending regeneration at a time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ..conftest import AssetEvents, Emit

pytestmark = pytest.mark.integration

LECTURE = {
    "title": "Bees",
    "segments": [{"segment_id": "s1", "duration_s": 6, "image": {"prompt": "a bee"}}],
}


@pytest.fixture
async def failed_image(
    client: httpx.AsyncClient,
    projector: asyncio.subprocess.Process,
    emit: Emit,
    asset_events: type[AssetEvents],
) -> dict[str, Any]:
    """An image asset whose first version failed, as the view shows it."""
    accepted = (await client.post("/v1/lectures", json=LECTURE)).json()
    [image] = accepted["assets"]
    last = await emit(asset_events(accepted["lecture_id"], image).failed())
    asset: dict[str, Any] = (
        await client.get(f"/v1/assets/{image['asset_id']}?wait_for={last}")
    ).json()
    assert asset["status"] == "failed"
    return asset


async def test_regenerating_bumps_the_version_and_the_asset_goes_back_to_pending(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    asset_id = failed_image["asset_id"]

    response = await client.post(
        f"/v1/assets/{asset_id}/regenerate", json={"prompt": "a friendly bee"}
    )

    assert response.status_code == 202
    accepted = response.json()
    assert (accepted["asset_id"], accepted["prompt_version"]) == (asset_id, 2)
    asset = (await client.get(f"/v1/assets/{asset_id}?wait_for={accepted['event_id']}")).json()
    assert asset["prompt_version"] == 2
    assert asset["status"] == "pending"
    assert asset["error"] is None
    assert asset["prompt"] == "a friendly bee"
    assert asset["model"] == failed_image["model"]


async def test_a_second_regeneration_while_the_first_is_pending_is_409(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    asset_id = failed_image["asset_id"]
    first = await client.post(f"/v1/assets/{asset_id}/regenerate", json={})
    assert first.status_code == 202

    before_projection = await client.post(f"/v1/assets/{asset_id}/regenerate", json={})
    await client.get(f"/v1/assets/{asset_id}?wait_for={first.json()['event_id']}")
    while_pending = await client.post(f"/v1/assets/{asset_id}/regenerate", json={})

    for response in (before_projection, while_pending):
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_finished_regeneration_can_be_regenerated_again(
    client: httpx.AsyncClient,
    failed_image: dict[str, Any],
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    asset_id = failed_image["asset_id"]
    first = (await client.post(f"/v1/assets/{asset_id}/regenerate", json={})).json()
    events = asset_events(failed_image["lecture_id"], failed_image)
    last = await emit(events.failed(version=2))
    await client.get(f"/v1/assets/{asset_id}?wait_for={last}")

    again = await client.post(f"/v1/assets/{asset_id}/regenerate", json={"model": "acme/other"})

    assert first["prompt_version"] == 2
    assert again.status_code == 202
    assert again.json()["prompt_version"] == 3


async def test_of_concurrent_regenerations_of_one_version_exactly_one_wins(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    asset_id = failed_image["asset_id"]

    responses = await asyncio.gather(
        *(client.post(f"/v1/assets/{asset_id}/regenerate", json={}) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409, 409]


async def test_regenerating_an_unknown_asset_is_404(
    client: httpx.AsyncClient, projector: asyncio.subprocess.Process
) -> None:
    response = await client.post("/v1/assets/nope/regenerate", json={"prompt": "x"})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_too_long_prompt_is_422_naming_the_prompt(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    response = await client.post(
        f"/v1/assets/{failed_image['asset_id']}/regenerate", json={"prompt": "x" * 4001}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["prompt"]


async def test_when_the_broker_does_not_acknowledge_the_answer_is_503_and_the_claim_is_let_go(
    client: httpx.AsyncClient, failed_image: dict[str, Any], app: FastAPI
) -> None:
    asset_id = failed_image["asset_id"]
    await app.state.runtime.events._producer.stop()  # the broker is out of reach

    response = await client.post(f"/v1/assets/{asset_id}/regenerate", json={})

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    claim = await app.state.runtime.claims.latest(asset_id)
    assert (claim.prompt_version, claim.abandoned) == (2, True)


async def test_the_same_idempotency_key_again_answers_with_its_version_and_makes_no_new_one(
    client: httpx.AsyncClient,
    failed_image: dict[str, Any],
    emit: Emit,
    asset_events: type[AssetEvents],
) -> None:
    asset_id = failed_image["asset_id"]
    key = {"Idempotency-Key": "redrive-3f2a"}
    first = await client.post(f"/v1/assets/{asset_id}/regenerate", json={}, headers=key)
    # The version it made has even ended: a plain request now would make version 3.
    events = asset_events(failed_image["lecture_id"], failed_image)
    last = await emit(events.failed(version=2))
    await client.get(f"/v1/assets/{asset_id}?wait_for={last}")

    again = await client.post(f"/v1/assets/{asset_id}/regenerate", json={}, headers=key)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    asset = (await client.get(f"/v1/assets/{asset_id}")).json()
    assert asset["prompt_version"] == 2
    other = await client.post(
        f"/v1/assets/{asset_id}/regenerate", json={}, headers={"Idempotency-Key": "another"}
    )
    assert other.json()["prompt_version"] == 3


async def test_concurrent_requests_with_one_idempotency_key_make_one_version(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    asset_id = failed_image["asset_id"]
    key = {"Idempotency-Key": "redrive-concurrent"}

    answers = await asyncio.gather(
        *(client.post(f"/v1/assets/{asset_id}/regenerate", json={}, headers=key) for _ in range(4))
    )

    accepted = [a.json() for a in answers if a.status_code == 202]
    assert accepted, [a.text for a in answers]
    assert {a["prompt_version"] for a in accepted} == {2}
    assert {a.status_code for a in answers} <= {202, 409}


async def test_a_regeneration_with_text_that_cannot_be_stored_is_422_naming_the_field(
    client: httpx.AsyncClient, failed_image: dict[str, Any]
) -> None:
    asset_id = failed_image["asset_id"]

    nul = await client.post(f"/v1/assets/{asset_id}/regenerate", json={"prompt": "a\x00bee"})
    params = await client.post(  # json.dumps escapes the unpaired surrogate, as clients may
        f"/v1/assets/{asset_id}/regenerate",
        content=json.dumps({"params": {"style": "\ud800"}}),
        headers={"Content-Type": "application/json"},
    )

    assert (nul.status_code, params.status_code) == (422, 422)
    assert [e["field"] for e in nul.json()["errors"]] == ["prompt"]
    assert [e["field"] for e in params.json()["errors"]] == ["params"]
    asset = (await client.get(f"/v1/assets/{asset_id}")).json()
    assert asset["prompt_version"] == 1
