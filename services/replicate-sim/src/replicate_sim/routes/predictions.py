"""Creating, reading and canceling predictions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from replicate_sim.dependencies import BaseUrlDep, SimulatorDep
from replicate_sim.drops import ConnectionDroppedError, DroppedResponse
from replicate_sim.simulator import Simulator, Target
from replicate_sim.validation import parse_body

router = APIRouter()
MAX_WAIT_S = 60


@router.post("/models/{owner}/{name}/predictions")
async def create_model_prediction(
    owner: str, name: str, request: Request, simulator: SimulatorDep, base_url: BaseUrlDep
) -> JSONResponse:
    """Run an official model, addressed by name."""
    target = partial(simulator.official_model, owner, name)
    body = parse_body(await request.body())
    return await _create(request, simulator, base_url, f"{owner}/{name}", target, body)


@router.post("/deployments/{owner}/{name}/predictions")
async def create_deployment_prediction(
    owner: str, name: str, request: Request, simulator: SimulatorDep, base_url: BaseUrlDep
) -> JSONResponse:
    """Run a deployment: it serves the model of the same name."""
    target = partial(simulator.deployment, owner, name)
    body = parse_body(await request.body())
    label = f"deployments/{owner}/{name}"
    return await _create(request, simulator, base_url, label, target, body)


@router.post("/predictions")
async def create_version_prediction(
    request: Request, simulator: SimulatorDep, base_url: BaseUrlDep
) -> JSONResponse:
    """Run a model version named by the body's `version`."""
    body = parse_body(await request.body())
    version = body.get("version")
    target = partial(simulator.version, version)
    return await _create(request, simulator, base_url, str(version), target, body)


@router.get("/predictions/{prediction_id}")
async def get_prediction(prediction_id: str, simulator: SimulatorDep) -> Response:
    try:
        prediction = simulator.read(prediction_id)
    except ConnectionDroppedError:
        return DroppedResponse()
    return JSONResponse(prediction.to_json())


@router.post("/predictions/{prediction_id}/cancel")
async def cancel_prediction(prediction_id: str, simulator: SimulatorDep) -> JSONResponse:
    return JSONResponse(simulator.cancel(prediction_id).to_json())


def wait_preference(prefer: str | None) -> int | None:
    """Seconds asked for by `Prefer: wait` (60) or `Prefer: wait=N` (1-60), or None."""
    for part in (prefer or "").split(","):
        name, sep, value = part.strip().partition("=")
        if name.strip().lower() != "wait":
            continue
        if not sep:
            return MAX_WAIT_S
        try:
            return min(MAX_WAIT_S, max(1, int(value.strip())))
        except ValueError:
            return None
    return None


async def _create(
    request: Request,
    simulator: Simulator,
    base_url: str,
    label: str,
    target: Callable[[], Target],
    body: dict[str, Any],
) -> JSONResponse:
    prediction = await simulator.create(label, target, body, base_url, lambda: _gone(request))
    headers = {"Location": f"{base_url}/v1/predictions/{prediction.id}"}
    wait_s = wait_preference(request.headers.get("prefer"))
    if wait_s is None:
        return JSONResponse(prediction.to_json(), status_code=201, headers=headers)
    headers["Preference-Applied"] = f"wait={wait_s}"
    await simulator.wait(prediction, wait_s)
    # A wait that runs out reports the prediction as it stands (`starting` or `processing`),
    # as the recorded answers of the real API show.
    return JSONResponse(prediction.to_json(), status_code=201, headers=headers)


async def _gone(request: Request) -> None:
    """Return once the client has disconnected (the body has already been read, so the server's
    `receive` blocks until the connection closes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
