"""Liveness, readiness, metrics, request ids and the 500 problem."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def test_readiness_reports_postgres_and_kafka(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "kafka": "ok"}


async def test_readiness_is_503_problem_when_postgres_is_gone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await app.state.runtime.reads._pool.close()  # the database went away under the API

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "postgres" in response.json()["detail"]


async def test_metrics_count_requests_by_route_template_and_status_class(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/v1/assets/one")
    await client.get("/v1/assets/two")
    await client.get("/no/such/route")

    text = (await client.get("/metrics")).text

    assert 'route="/v1/assets/{asset_id}"' in text
    assert 'route="unmatched",status_class="4xx"' in text
    assert "/v1/assets/one" not in text


async def test_every_answer_carries_a_request_id_and_keeps_a_safe_incoming_one(
    client: httpx.AsyncClient,
) -> None:
    generated = await client.get("/healthz")
    assert generated.headers["x-request-id"]
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "evil\tvalue"})
    assert replaced.headers["x-request-id"] != "evil\tvalue"


async def test_an_unknown_route_and_a_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.delete("/v1/lectures")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_an_unhandled_error_is_a_500_problem_without_internals(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    response = await client.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "secret internal detail" not in response.text
    assert response.headers["x-request-id"] in problem["detail"]
