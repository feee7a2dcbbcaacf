"""`lecturegen demo`: submit the demo lecture, follow it live, report every asset's outcome."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from lecturegen_cli.api_client import ApiError, LectureApi
from lecturegen_cli.demo.plan import DemoPlan
from lecturegen_cli.demo.progress import LectureProgress
from shared.media import MediaKind
from shared.status import AssetStatus

POLL_INTERVAL_S = 3.0
"""How often the assets endpoint is read besides the live stream, in case the stream drops."""


@dataclass(frozen=True, slots=True)
class AssetOutcome:
    """Where one asset of the demo ended up, next to where it was expected to."""

    asset_id: str
    kind: MediaKind
    segment_id: str | None
    status: AssetStatus
    error_code: str | None
    error_message: str | None
    attempts: int
    retried_count: int
    prompt_version: int
    expected: AssetStatus | None
    story: str | None

    @property
    def as_expected(self) -> bool | None:
        return None if self.expected is None else self.status is self.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "kind": self.kind.value,
            "segment_id": self.segment_id,
            "status": self.status.value,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "attempts": self.attempts,
            "retried_count": self.retried_count,
            "prompt_version": self.prompt_version,
            "expected": None if self.expected is None else self.expected.value,
            "scenario": self.story,
        }


@dataclass(frozen=True, slots=True)
class DemoResult:
    lecture_id: str
    api_url: str
    elapsed_s: float
    complete: bool
    """Every asset reached a terminal status before the timeout."""
    assets: tuple[AssetOutcome, ...]

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for asset in self.assets:
            counts[asset.status.value] = counts.get(asset.status.value, 0) + 1
        return {
            "lecture_id": self.lecture_id,
            "api_url": self.api_url,
            "elapsed_s": round(self.elapsed_s, 1),
            "complete": self.complete,
            "counts": counts,
            "assets": [a.to_json() for a in self.assets],
        }


def outcome_of(asset: dict[str, Any], plan: DemoPlan) -> AssetOutcome:
    """One row of the report from an asset of `GET /v1/lectures/{id}/assets`."""
    kind = MediaKind(asset["kind"])
    planned = plan.planned(kind, asset.get("segment_id"))
    error = asset.get("error") or {}
    version = int(asset.get("prompt_version", 1))
    attempts = [
        a
        for a in asset.get("attempts") or []
        if a.get("prompt_version") == version and not a.get("superseded")
    ]
    retried = int(asset.get("retried_count") or 0)
    return AssetOutcome(
        asset_id=asset["asset_id"],
        kind=kind,
        segment_id=asset.get("segment_id"),
        status=AssetStatus(asset.get("status") or AssetStatus.GENERATED),
        error_code=error.get("code"),
        error_message=error.get("message"),
        attempts=len(attempts) if attempts else retried + 1,
        retried_count=retried,
        prompt_version=version,
        expected=planned.expected if planned else None,
        story=planned.story if planned else None,
    )


Observer = Callable[[LectureProgress], None]


async def run_demo(
    api: LectureApi,
    plan: DemoPlan,
    *,
    timeout_s: float,
    on_progress: Observer,
    on_created: Callable[[str], None] = lambda lecture_id: None,
) -> DemoResult:
    """Create the lecture, follow it until every asset is terminal or `timeout_s` passes."""
    started = time.monotonic()
    accepted = await api.create_lecture(plan.body)
    lecture_id: str = accepted["lecture_id"]
    on_created(lecture_id)
    progress = LectureProgress.starting(a["asset_id"] for a in accepted["assets"])
    on_progress(progress)
    complete = await follow(api, lecture_id, progress, timeout_s=timeout_s, on_progress=on_progress)
    assets = await api.lecture_assets(lecture_id)
    return DemoResult(
        lecture_id=lecture_id,
        api_url=api.base_url,
        elapsed_s=time.monotonic() - started,
        complete=complete,
        assets=tuple(outcome_of(a, plan) for a in assets),
    )


async def follow(
    api: LectureApi,
    lecture_id: str,
    progress: LectureProgress,
    *,
    timeout_s: float,
    on_progress: Observer,
    poll_interval_s: float = POLL_INTERVAL_S,
) -> bool:
    """Update `progress` from the live stream (and a slow poll) until the assets endpoint
    shows every asset terminal; False if that did not happen within `timeout_s`."""
    changed = asyncio.Event()

    def note(did_change: bool) -> None:
        if did_change:
            on_progress(progress)
            changed.set()

    stream = asyncio.create_task(_stream(api, lecture_id, progress, note))
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                # The views decide: the stream may run ahead of what the endpoint shows.
                view = await _assets_or_none(api, lecture_id)
                note(progress.apply_view(view))
                if view and all(AssetStatus(a["status"]).is_terminal for a in view):
                    return True
                changed.clear()
                wait = poll_interval_s if not progress.done else min(poll_interval_s, 0.3)
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                # that arrives as the event is set.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await changed.wait()
    except TimeoutError:
        return False
    finally:
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream


async def _assets_or_none(api: LectureApi, lecture_id: str) -> list[dict[str, Any]]:
    """The lecture's assets, or none while the projector has not caught up with it yet."""
    try:
        return await api.lecture_assets(lecture_id)
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


async def _stream(
    api: LectureApi,
    lecture_id: str,
    progress: LectureProgress,
    note: Callable[[bool], None],
) -> None:
    """Follow the SSE stream, reconnecting from the last event id when it drops."""
    last_id: str | None = None
    while True:
        try:
            async for message in api.events(lecture_id, last_id):
                last_id = message.id or last_id
                with contextlib.suppress(ValueError):
                    note(progress.apply_event(message.event, json.loads(message.data)))
        except (httpx.HTTPError, ApiError):
            pass
        await asyncio.sleep(1.0)
