"""The simulator's own routes: create counts, reset, generated files, health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from replicate_sim import problems
from replicate_sim.dependencies import SimulatorDep
from replicate_sim.problems import ProblemError

router = APIRouter()


@router.get("/sim/stats")
async def get_stats(simulator: SimulatorDep, contains: str | None = None) -> JSONResponse:
    """Create calls per exact input; `?contains=` keeps inputs whose prompt/text contains it."""
    return JSONResponse(simulator.stats.snapshot(contains))


@router.post("/sim/reset")
async def reset(simulator: SimulatorDep) -> JSONResponse:
    await simulator.reset()
    return JSONResponse({"reset": True})


@router.get("/files/{file_id}")
async def get_file(file_id: str, simulator: SimulatorDep) -> Response:
    media = simulator.files.get(file_id)
    if media is None:
        raise ProblemError(problems.not_found())
    return Response(media.data, media_type=media.content_type)


@router.get("/delivery/xezq/{token}/{name}")
async def get_delivered_file(token: str, name: str, simulator: SimulatorDep) -> Response:
    """An output file, on the delivery path; 404 once its prediction's output has expired."""
    media = simulator.delivered(token, name)
    return Response(media.data, media_type=media.content_type)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})
