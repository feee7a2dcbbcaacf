"""Every /v1 route needs a bearer token; operational routes and media do not."""

from __future__ import annotations

import asyncio

import httpx
import pytest

pytestmark = pytest.mark.integration

V1_ROUTES = [
    ("POST", "/v1/lectures"),
    ("GET", "/v1/lectures/some-id"),
    ("GET", "/v1/lectures/some-id/timeline"),
    ("GET", "/v1/lectures/some-id/assets"),
    ("GET", "/v1/lectures/some-id/events"),
    ("GET", "/v1/assets/some-id"),
    ("POST", "/v1/assets/some-id/regenerate"),
]


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
async def test_a_v1_route_without_a_token_is_401_with_a_bearer_challenge(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anonymous.request(method, path, json={})

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


async def test_a_wrong_token_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/v1/assets/x", headers={"Authorization": "Bearer not-the-token"}
    )
    assert response.status_code == 401


async def test_another_scheme_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/assets/x", headers={"Authorization": "Basic dXNlcjpw"})
    assert response.status_code == 401


async def test_a_token_in_the_query_is_refused_outside_the_event_stream(
    anonymous: httpx.AsyncClient, token: str
) -> None:
    response = await anonymous.get(f"/v1/assets/x?access_token={token}")
    assert response.status_code == 401


async def test_a_token_in_the_query_opens_the_event_stream(
    anonymous: httpx.AsyncClient, token: str, projector: asyncio.subprocess.Process
) -> None:
    response = await anonymous.get(f"/v1/lectures/unknown/events?access_token={token}")
    assert response.status_code == 404  # past authentication: the lecture does not exist


async def test_operational_routes_are_public(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/metrics")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200


async def test_tokens_never_reach_the_logs(
    anonymous: httpx.AsyncClient, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await anonymous.get("/v1/assets/x", headers={"Authorization": f"Bearer {token}"})
    await anonymous.get(f"/v1/lectures/x/events?access_token={token}")
    await anonymous.get("/v1/assets/x", headers={"Authorization": "Bearer wrong-secret-value"})

    server_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert server_records, "requests are logged"
    for record in server_records:  # (the test client's own log line shows its URL)
        line = f"{record.getMessage()} {record.__dict__}"
        assert token not in line
        assert "wrong-secret-value" not in line
