"""Predictions: the record Replicate returns, and the timed run that moves it from `starting`
through `processing` to its end."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from replicate_sim.directives import ReadFaults
from replicate_sim.faults import UNAVAILABLE, Ending, OutputStyle, Run
from replicate_sim.inputs import seed_of
from replicate_sim.media import Media
from replicate_sim.models import ModelSpec

log = logging.getLogger(__name__)
TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
START_SHARE = 0.25
"""The part of a prediction's latency it spends in `starting`."""


def new_prediction_id() -> str:
    """An id shaped like Replicate's: 26 lowercase letters and digits."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(26))


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Prediction:
    """One prediction, as it stands now."""

    id: str
    model: str
    version: str
    input: dict[str, Any]
    base_url: str
    """The public base URL the prediction was created through, for its `urls` and output URLs."""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "starting"
    output: Any = None
    error: str | None = None
    logs: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output_expires_at: datetime | None = None
    """When its output is deleted; None while it has none to delete."""
    reads: ReadFaults = field(default_factory=ReadFaults)
    """The read faults still to come (each read that fails uses one up)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def data_removed(self) -> bool:
        """Whether its output has expired and been deleted."""
        expires = self.output_expires_at
        return expires is not None and datetime.now(UTC) >= expires

    def expire_output_after(self, seconds: float) -> None:
        if self.completed_at is not None:
            self.output_expires_at = self.completed_at + timedelta(seconds=seconds)

    def start(self) -> None:
        self.status, self.started_at = "processing", datetime.now(UTC)

    def finish(self, status: str, *, output: Any = None, error: str | None = None) -> None:
        self.status, self.output, self.error = status, output, error
        self.completed_at = datetime.now(UTC)
        self.done.set()

    def to_json(self, status: str | None = None) -> dict[str, Any]:
        """The API representation; `status` overrides the reported status (sync-mode timeout)."""
        url = f"{self.base_url}/v1/predictions/{self.id}"
        removed = self.data_removed
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "input": self.input,
            "output": None if removed else self.output,
            "data_removed": removed,
            "error": self.error,
            "status": status or self.status,
            "created_at": timestamp(self.created_at),
            "started_at": timestamp(self.started_at) if self.started_at else None,
            "completed_at": timestamp(self.completed_at) if self.completed_at else None,
            "urls": {"web": f"{self.base_url}/p/{self.id}", "get": url, "cancel": f"{url}/cancel"},
            "logs": self.logs,
            "metrics": self._metrics(),
        }

    def _metrics(self) -> dict[str, float]:
        if self.completed_at is None:
            return {}
        total = (self.completed_at - self.created_at).total_seconds()
        if self.started_at is None:
            return {"total_time": total}
        predict = (self.completed_at - self.started_at).total_seconds()
        return {"predict_time": predict, "total_time": total}


Render = Callable[[ModelSpec, dict[str, Any]], tuple[Media, ...]]
ShapeOutput = Callable[[ModelSpec, tuple[Media, ...], OutputStyle, str, str], Any]


@dataclass(frozen=True)
class PredictionRunner:
    """Carries out a `Run` plan on a prediction, in real time."""

    render: Render
    shape_output: ShapeOutput
    output_ttl_s: float = 3600.0
    in_outage: Callable[[], bool] = lambda: False
    """Whether a provider-wide outage is on: a prediction ending meanwhile fails with E004."""

    async def run(self, prediction: Prediction, spec: ModelSpec, plan: Run) -> None:
        try:
            await self._run(prediction, spec, plan)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("prediction %s crashed", prediction.id)
            prediction.finish("failed", error="Prediction failed.")

    async def _run(self, prediction: Prediction, spec: ModelSpec, plan: Run) -> None:
        deadline = time.monotonic() + plan.latency_s
        await asyncio.sleep(plan.latency_s * START_SHARE)
        if not plan.starts:
            if self.in_outage():
                prediction.finish("failed", error=UNAVAILABLE)
                return
            prediction.logs += plan.logs
            prediction.finish(plan.ending.value, error=plan.error)
            return
        prediction.start()
        prediction.logs += f"Using seed: {seed_of(prediction.input)}\n"
        prediction.logs += "  0%|          | 0/4 [00:00<?, ?it/s]\n"
        media = None
        if plan.ending is Ending.SUCCEEDED:
            media = await asyncio.to_thread(self.render, spec, prediction.input)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        if self.in_outage():
            prediction.finish("failed", error=UNAVAILABLE)
            return
        prediction.logs += plan.logs
        if media is None:
            prediction.finish(plan.ending.value, error=plan.error)
            return
        prediction.logs += "100%|##########| 4/4 [00:00<00:00, 20.00it/s]\n"
        output = self.shape_output(spec, media, plan.output, prediction.id, prediction.base_url)
        prediction.finish("succeeded", output=output)
        prediction.expire_output_after(0.0 if plan.expire_output else self.output_ttl_s)
