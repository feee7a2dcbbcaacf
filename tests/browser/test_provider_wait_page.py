"""An asset held while its model's circuit is open, on the editor's page: the clip says it
waits for the provider (live, and after a reload, from the asset's view), the activity log
says the attempt was held, and both clear when the asset runs again.

The hold is the worker's own event (`asset.retrying` v2 with `waiting_for: provider`), written
to the stack's event log while the asset's real attempt is running at the local server; the
outage that makes workers write it is tested end to end in `tests/integration`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from shared.envelope import encode, envelop
from shared.errors import ErrorCode, GenerationError
from shared.events import AssetRetrying
from shared.kafka.clients import make_producer
from shared.media import MediaKind
from shared.settings import KafkaSettings
from shared.topics import events

pytestmark = pytest.mark.browser

LIVE_S = 60_000
WAITING = "waiting for the provider to recover"


def held(asset: dict[str, Any]) -> AssetRetrying:
    """The event a worker writes when it holds the asset's first attempt."""
    return AssetRetrying(
        lecture_id=asset["lecture_id"],
        asset_id=asset["asset_id"],
        kind=MediaKind(asset["kind"]),
        segment_id=asset["segment_id"],
        prompt_version=asset["prompt_version"],
        attempt=1,
        retried_count=0,
        delay_s=0.0,
        next_attempt_at=datetime.now(UTC),
        error=GenerationError(
            ErrorCode.TRANSIENT_PROVIDER_ERROR, "the provider is unavailable (circuit open)"
        ).info,
        model=asset["model"],
        waiting_for="provider",
    )


def write_event(stack: Any, payload: AssetRetrying) -> None:
    """Write `payload` to the stack's event log, on a thread of its own (Playwright's sync API
    owns this thread's event loop)."""

    async def send() -> None:
        kafka = KafkaSettings(bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"])
        producer = make_producer(kafka)
        await producer.start()
        try:
            value, headers = encode(envelop(payload, "tests/browser"))
            topic = events(stack.env["LECTUREGEN_TOPIC_NAMESPACE"])
            await producer.send_and_wait(
                topic, value, key=payload.lecture_id.encode(), headers=headers
            )
        finally:
            await producer.stop()

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, send()).result()


def test_a_clip_held_for_its_provider_says_so_until_it_runs(page: Page, stack: Any) -> None:
    accepted = stack.create(
        {
            "title": "Harbours held",
            "segments": [
                {"duration_s": 4, "image": {"prompt": "harbour [[sim:latency=10]] (held)"}}
            ],
        }
    )
    lecture_id = accepted["lecture_id"]
    page.goto(f"{stack.api_url}/lectures/{lecture_id}?token={stack.token}")
    clip = page.locator("li.clip").first
    expect(page.locator(".activity li", has_text="attempt 1 started")).to_be_visible(timeout=LIVE_S)
    with stack.api() as client:
        asset = client.get(f"/v1/lectures/{lecture_id}/assets").json()["assets"][0]

    write_event(stack, held(asset))

    expect(clip).to_have_attribute("data-status", "retrying", timeout=LIVE_S)
    expect(clip).to_contain_text(WAITING)
    expect(page.locator(".activity li", has_text="held")).to_contain_text(
        "the provider is unavailable"
    )
    with stack.api() as client:
        view = client.get(f"/v1/assets/{asset['asset_id']}").json()
    assert (view["status"], view["waiting_for"]) == ("retrying", "provider")

    page.reload()
    expect(clip).to_contain_text(WAITING)

    # The real attempt ends at the local server: the clip turns green and waits no more.
    expect(clip).to_have_attribute("data-status", "generated", timeout=LIVE_S)
    expect(clip).not_to_contain_text(WAITING)
