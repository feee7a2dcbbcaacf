"""Request dependencies: the simulator of this app, and the API token check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from replicate_sim import problems
from replicate_sim.account import Call
from replicate_sim.problems import ProblemError
from replicate_sim.simulator import Simulator

TOKEN_SCHEMES = ("bearer", "token")


def get_simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]


def require_token(request: Request, simulator: SimulatorDep) -> None:
    """`Authorization: Bearer <token>` or `Token <token>`; any token unless one is configured."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    expected = simulator.settings.token
    valid = scheme.lower() in TOKEN_SCHEMES and bool(token)
    if not valid or (expected and not secrets.compare_digest(token.encode(), expected.encode())):
        raise ProblemError(problems.unauthenticated())


def public_base_url(request: Request, simulator: SimulatorDep) -> str:
    """Where clients reach this server: the configured base, else the one they called."""
    return (simulator.settings.public_base_url or str(request.base_url)).rstrip("/")


BaseUrlDep = Annotated[str, Depends(public_base_url)]


def within_read_limit(simulator: SimulatorDep) -> None:
    """Calls other than predictions' (models, versions, the webhook secret) count against a
    throttle's read budget; an outage leaves them alone."""
    simulator.admit(Call.READ, outage_applies=False)
