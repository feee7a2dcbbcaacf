"""`GET /v1/providers`: every provider/model's circuit and the assets waiting on it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import Circuits, Reads, require_token
from api.problems import responses
from api.schemas import ProviderList, ProviderState
from shared.health.outcomes import split_key

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(require_token)],
    responses=responses(401, 500),
    tags=["providers"],
)


@router.get(
    "/providers",
    response_model=ProviderList,
    responses=responses(503),
    summary="Every provider/model the circuit breaker has seen: state, since, error rate, "
    "assets waiting",
)
async def list_providers(circuits: Circuits, reads: Reads) -> ProviderList:
    waiting = await reads.waiting_by_model()
    providers = []
    for key, view in sorted(circuits.views().items()):
        provider, model = split_key(key)
        providers.append(
            ProviderState(
                provider=provider,
                model=model,
                state=view.state.value,
                since=view.since,
                unavailable_since=view.unavailable_since,
                error_rate=round(view.error_rate, 4),
                reason=view.reason,
                assets_waiting=waiting.get(model, 0),
            )
        )
    return ProviderList(providers=providers)
