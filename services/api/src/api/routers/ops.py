"""Operational routes: liveness, readiness and Prometheus metrics (public)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Metrics, RuntimeDep, SettingsDep
from api.outages import RETRY_AFTER_S
from api.problems import problem_response, responses

router = APIRouter(tags=["operations"])

log = logging.getLogger(__name__)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: PostgreSQL and Kafka answer a real call",
    responses=responses(503),
)
async def readyz(runtime: RuntimeDep, settings: SettingsDep) -> Any:
    timeout = settings.readiness_timeout_s
    checks = {
        "postgres": await _check(runtime.reads.ping(), timeout),
        "kafka": await _check(runtime.events.ping(), timeout),
    }
    failing = sorted(name for name, ok in checks.items() if not ok)
    if failing:
        return problem_response(
            503,
            detail=f"not ready: {', '.join(failing)} unreachable",
            slug="not-ready",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return JSONResponse({"status": "ready", "checks": dict.fromkeys(checks, "ok")})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(metrics: Metrics) -> PlainTextResponse:
    return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _check(call: Awaitable[object], timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await call
    except Exception as exc:  # any failure means "not ready"; say which in the log
        log.warning("readiness check failed: %r", exc)
        return False
    return True
