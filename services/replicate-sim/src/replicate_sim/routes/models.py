"""Models and their versions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from replicate_sim import problems
from replicate_sim.catalog import model_json, version_json
from replicate_sim.dependencies import SimulatorDep
from replicate_sim.models import ModelSpec
from replicate_sim.problems import ProblemError

router = APIRouter()


@router.get("/models/{owner}/{name}")
async def get_model(owner: str, name: str, simulator: SimulatorDep) -> JSONResponse:
    spec = _known(simulator, owner, name)
    return JSONResponse(model_json(spec, simulator.stats.creates_for(spec.ref)))


@router.get("/models/{owner}/{name}/versions")
async def list_versions(owner: str, name: str, simulator: SimulatorDep) -> JSONResponse:
    spec = _known(simulator, owner, name)
    return JSONResponse({"next": None, "previous": None, "results": [version_json(spec)]})


@router.get("/models/{owner}/{name}/versions/{version_id}")
async def get_version(
    owner: str, name: str, version_id: str, simulator: SimulatorDep
) -> JSONResponse:
    spec = _known(simulator, owner, name)
    if version_id != spec.version:
        raise ProblemError(problems.not_found())
    return JSONResponse(version_json(spec))


def _known(simulator: SimulatorDep, owner: str, name: str) -> ModelSpec:
    spec = simulator.models.by_ref(owner, name)
    if spec is None:
        raise ProblemError(problems.not_found())
    return spec
