"""Replicate's signed webhooks (public: the signature, not a bearer token, authenticates)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.problems import responses
from api.webhook_inbox import WebhookInbox

router = APIRouter(tags=["webhooks"])


def _inbox(request: Request) -> WebhookInbox:
    inbox: WebhookInbox = request.app.state.webhooks
    return inbox


Inbox = Annotated[WebhookInbox, Depends(_inbox)]


@router.post(
    "/v1/webhooks/replicate",
    status_code=202,
    summary="A prediction's `completed` webhook, signed by Replicate (Standard Webhooks)",
    responses=responses(400, 401, 409, 413, 503),
)
async def receive_replicate_webhook(request: Request, inbox: Inbox) -> Any:
    accepted = await inbox.receive(request.headers, await request.body())
    return JSONResponse(
        {"webhook_id": accepted.webhook_id, "prediction_id": accepted.prediction_id},
        status_code=202,
    )
