"""The app factory: routes, error answers in Replicate's problem+json shape, and lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from replicate_sim import problems
from replicate_sim.dependencies import require_token, within_read_limit
from replicate_sim.drops import ConnectionDroppedError
from replicate_sim.models import ModelTable
from replicate_sim.problems import Problem, ProblemError
from replicate_sim.ratelimit import RateLimitHeaders
from replicate_sim.routes import models as model_routes
from replicate_sim.routes import predictions as prediction_routes
from replicate_sim.routes import sim as sim_routes
from replicate_sim.routes import webhooks as webhook_routes
from replicate_sim.served import ServedCounter
from replicate_sim.settings import SimSettings
from replicate_sim.simulator import Simulator

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def create_app(settings: SimSettings | None = None, models: ModelTable | None = None) -> FastAPI:
    """A Replicate-compatible API over a fresh simulator (with the default model table unless
    another is given)."""
    simulator = Simulator(settings or SimSettings(), models)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await simulator.close()

    app = FastAPI(title="replicate-sim", lifespan=lifespan, openapi_url=None)
    app.state.simulator = simulator
    authenticated = [Depends(require_token)]
    limited = [*authenticated, Depends(within_read_limit)]
    app.include_router(prediction_routes.router, prefix="/v1", dependencies=authenticated)
    app.include_router(model_routes.router, prefix="/v1", dependencies=limited)
    app.include_router(webhook_routes.router, prefix="/v1", dependencies=limited)
    app.include_router(webhook_routes.sim_router)
    app.include_router(sim_routes.router)
    _add_error_handlers(app)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(ServedCounter)
    return app


def problem_response(problem: Problem) -> JSONResponse:
    headers = None
    if problem.retry_after_s:
        hint = str(problem.retry_after_s)
        headers = {"Retry-After": hint, "ratelimit-remaining": "0", "ratelimit-reset": hint}
    return JSONResponse(
        problem.body(), status_code=problem.status, headers=headers, media_type=PROBLEM_JSON
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.problem)

    @app.exception_handler(HTTPException)
    async def on_http_error(_: Request, exc: HTTPException) -> JSONResponse:
        known = {404: problems.not_found, 405: problems.method_not_allowed}
        problem = known[exc.status_code]() if exc.status_code in known else None
        return problem_response(problem or Problem(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        field = ".".join(str(part) for part in exc.errors()[0]["loc"]) if exc.errors() else "body"
        return problem_response(problems.invalid_input(field, "is invalid"))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, ConnectionDroppedError):  # on purpose: its answer had already started
            return problem_response(problems.internal_error())
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(problems.internal_error())
