"""The webhook signing secret, as Replicate serves it, and what happened to webhooks sent."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from replicate_sim.dependencies import SimulatorDep

router = APIRouter()
sim_router = APIRouter()


@router.get("/webhooks/default/secret")
async def get_signing_secret(simulator: SimulatorDep) -> JSONResponse:
    """`{"key": "whsec_..."}`: the secret this server's webhooks are signed with."""
    return JSONResponse({"key": simulator.webhooks.secret})


@sim_router.get("/sim/webhooks")
async def get_webhook_counts(simulator: SimulatorDep) -> JSONResponse:
    """Deliveries made, accepted, refused and given up, and webhooks dropped on purpose."""
    return JSONResponse(simulator.webhooks.snapshot())
