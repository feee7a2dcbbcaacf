"""`/v1/assets`: read one asset with its attempt history, and regenerate it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Response

from api.claims import KeyedClaim, KeyTakenError, VersionTakenError
from api.deps import (
    ClaimsDep,
    Events,
    Metrics,
    Reads,
    SettingsDep,
    read_your_writes,
    require_token,
)
from api.event_log import EventLogUnavailableError, EventTooLargeError
from api.logs import request_id_var
from api.model_inputs import input_errors
from api.outages import retry_later
from api.problems import FieldError, ProblemError, invalid, not_found, responses, too_large
from api.regeneration import RegenerationPendingError, next_version, regeneration_event
from api.schemas import AssetView, RegenerateRequest, RegenerationAccepted
from api.views import asset_view

router = APIRouter(
    prefix="/v1/assets",
    tags=["assets"],
    dependencies=[Depends(require_token)],
    responses=responses(401, 500),
)

AssetId = Annotated[str, Path(max_length=128, description="the asset's id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="the same key again answers with the version it made, and makes no new "
        "one (e.g. `lecturegen redrive`'s key per asset, version and arguments)",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


@router.get(
    "/{asset_id}",
    response_model=AssetView,
    responses=responses(404, 422, 503),
    dependencies=[Depends(read_your_writes)],
)
async def get_asset(asset_id: AssetId, reads: Reads) -> AssetView:
    row = await reads.asset(asset_id)
    if row is None:
        raise not_found("asset", asset_id)
    return asset_view(row, await reads.attempts(asset_id))


@router.post(
    "/{asset_id}/regenerate",
    status_code=202,
    response_model=RegenerationAccepted,
    responses=responses(400, 404, 409, 413, 422, 503),
    summary="Ask for a new version of the asset: appends one `asset.regeneration-requested`",
)
async def regenerate_asset(
    asset_id: AssetId,
    reads: Reads,
    claims: ClaimsDep,
    events: Events,
    settings: SettingsDep,
    metrics: Metrics,
    response: Response,
    body: Annotated[RegenerateRequest | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> RegenerationAccepted:
    if idempotency_key is not None and (earlier := await claims.by_key(idempotency_key)):
        return _replayed(asset_id, earlier, response)
    asset = await reads.asset(asset_id)
    if asset is None:
        raise not_found("asset", asset_id)
    latest = await claims.latest(asset_id)
    try:
        version = next_version(asset, latest, datetime.now(UTC), settings.regeneration_claim_ttl_s)
    except RegenerationPendingError as exc:
        raise _pending(asset_id, exc.prompt_version) from exc
    payload = regeneration_event(asset, body or RegenerateRequest(), version)
    model_errors = input_errors("", payload.model, payload.prompt, payload.params)
    if model_errors:
        raise invalid(model_errors)
    envelope = events.envelop(payload, correlation_id=request_id_var.get())
    try:
        await claims.claim(asset_id, version, envelope.id, idempotency_key)
    except VersionTakenError as exc:
        raise _pending(asset_id, version) from exc
    except KeyTakenError as exc:  # the same request, concurrently: answer as it was answered
        earlier = await claims.by_key(str(idempotency_key))
        if earlier is None:
            raise _pending(asset_id, version) from exc
        return _replayed(asset_id, earlier, response)
    try:
        await events.append(envelope)
    except EventTooLargeError as exc:
        await claims.abandon(asset_id, version)
        raise too_large("the regeneration", exc.size, exc.limit) from exc
    except EventLogUnavailableError as exc:
        await claims.abandon(asset_id, version)
        raise retry_later("the event log did not accept the regeneration; retry") from exc
    metrics.events_appended.labels(payload.short_type()).inc()
    return RegenerationAccepted(asset_id=asset_id, prompt_version=version, event_id=envelope.id)


def _replayed(asset_id: str, earlier: KeyedClaim, response: Response) -> RegenerationAccepted:
    """The answer to a request whose idempotency key was used before: the same version."""
    if earlier.asset_id != asset_id:
        raise invalid(
            [
                FieldError(
                    field="header.Idempotency-Key",
                    message=f"already used for asset {earlier.asset_id!r}",
                )
            ]
        )
    response.headers[REPLAYED_HEADER] = "true"
    return RegenerationAccepted(
        asset_id=asset_id, prompt_version=earlier.prompt_version, event_id=earlier.event_id
    )


def _pending(asset_id: str, version: int) -> ProblemError:
    return ProblemError(
        409,
        f"a regeneration of asset {asset_id!r} (prompt_version {version}) is already pending",
        slug="regeneration-pending",
    )
