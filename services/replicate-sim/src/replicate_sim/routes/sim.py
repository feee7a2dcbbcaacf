"""The simulator's own routes: create counts, provider-wide faults, reset, generated files,
health."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from replicate_sim import problems
from replicate_sim.account import BURST_S, Throttle
from replicate_sim.dependencies import SimulatorDep
from replicate_sim.problems import ProblemError

router = APIRouter()


@router.get("/sim/stats")
async def get_stats(simulator: SimulatorDep, contains: str | None = None) -> JSONResponse:
    """Create calls per exact input (`?contains=` keeps inputs whose prompt/text contains it),
    and every `/v1` call served."""
    return JSONResponse(
        {**simulator.stats.snapshot(contains), "served": simulator.served.to_json()}
    )


class OutageFault(BaseModel):
    """Every create and prediction read answers 503 for `for_s` seconds."""

    mode: Literal["outage"]
    for_s: float = Field(gt=0, le=86_400)


class ThrottleFault(BaseModel):
    """The account's limits: creates and other calls per minute, with a short burst."""

    mode: Literal["throttle"]
    creates_per_min: float = Field(ge=0)
    reads_per_min: float = Field(ge=0)
    burst_s: float = Field(BURST_S, gt=0, le=600)


Fault = Annotated[OutageFault | ThrottleFault, Field(discriminator="mode")]


@router.post("/sim/faults")
async def start_fault(fault: Fault, simulator: SimulatorDep) -> JSONResponse:
    """Start a provider-wide fault (replacing one of the same mode); answers the active ones."""
    if isinstance(fault, OutageFault):
        simulator.faults.start_outage(fault.for_s)
    else:
        simulator.faults.start_throttle(
            Throttle(fault.creates_per_min, fault.reads_per_min, fault.burst_s)
        )
    return JSONResponse({"faults": simulator.faults.active()}, status_code=201)


@router.get("/sim/faults")
async def list_faults(simulator: SimulatorDep) -> JSONResponse:
    return JSONResponse({"faults": simulator.faults.active()})


@router.delete("/sim/faults")
async def end_faults(simulator: SimulatorDep) -> JSONResponse:
    simulator.faults.clear()
    return JSONResponse({"faults": []})


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
