"""The simulator: the server's state and what each API call does to it, without HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from replicate_sim import problems
from replicate_sim.account import Call, ProviderFaults, ServedCounts
from replicate_sim.deliveries import Deliveries
from replicate_sim.directives import parse_directives
from replicate_sim.drops import ConnectionDroppedError
from replicate_sim.faults import Hang, plan_create
from replicate_sim.files import FileStore
from replicate_sim.media import Media, MediaRenderer
from replicate_sim.models import ModelSpec, ModelTable
from replicate_sim.outputs import OutputShaper
from replicate_sim.predictions import Prediction, PredictionRunner, new_prediction_id
from replicate_sim.problems import Problem, ProblemError
from replicate_sim.settings import SimSettings
from replicate_sim.stats import CreateStats
from replicate_sim.validation import check_input, input_of
from replicate_sim.webhooks import WebhookSender, webhook_target

log = logging.getLogger(__name__)
MODEL_VERSION = re.compile(r"^(?P<owner>[^/]+)/(?P<name>[^/:]+)(:(?P<id>.+))?$")
MAX_PREDICTIONS = 10_000
"""Past this many, the oldest finished predictions are forgotten (their GET answers 404)."""


@dataclass(frozen=True)
class Target:
    """The model a create call runs, and the `version` its predictions report."""

    spec: ModelSpec
    version: str


def served_version(owner: str, name: str) -> str:
    """The `version` a prediction of an official model or a deployment reports: `dp-` and 32
    hex digits, as the real API's recorded answers show (the `replicate` client's cassettes
    `test_predictions_create_by_model[True].yaml`, `test_models_predictions_create_blocking`)."""
    return f"dp-{hashlib.sha256(f'{owner}/{name}'.encode()).hexdigest()[:32]}"


class Simulator:
    """Predictions, create counts and generated files of one server process."""

    def __init__(self, settings: SimSettings, models: ModelTable | None = None) -> None:
        self.settings = settings
        self.models = models or ModelTable()
        self.stats = CreateStats()
        self.faults = ProviderFaults(time.monotonic)
        """Provider-wide faults (`/sim/faults`): an outage, an account's rate limits."""
        self.served = ServedCounts()
        self.files = FileStore()
        self.deliveries = Deliveries()
        self._renderer = MediaRenderer()
        shaper = OutputShaper(settings, self.files, self.deliveries)
        self._runner = PredictionRunner(
            self._renderer.render, shaper.shape, settings.output_ttl_s, self.faults.in_outage
        )
        self._predictions: dict[str, Prediction] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.webhooks = WebhookSender(settings.webhook_secret, settings.webhook_resend_delays_s)

    def official_model(self, owner: str, name: str) -> Target:
        spec = self.models.by_ref(owner, name)
        if spec is None or not spec.official:
            raise ProblemError(problems.not_found())
        return Target(spec, served_version(spec.owner, spec.name))

    def deployment(self, owner: str, name: str) -> Target:
        spec = self.models.by_deployment(owner, name)
        if spec is None:
            raise ProblemError(problems.not_found())
        return Target(spec, served_version(owner, name))

    def version(self, ref: object) -> Target:
        """`version` of a create body: a 64-hex id, `owner/name:id`, or `owner/name` (official)."""
        if not isinstance(ref, str) or not ref:
            raise ProblemError(problems.invalid_input("version", "is required", "required"))
        match = MODEL_VERSION.match(ref)
        if match is None:
            spec = self.models.by_version(ref)
            version_id: str | None = ref
        else:
            spec = self.models.by_ref(match["owner"], match["name"])
            version_id = match["id"]
        if spec is not None and version_id == spec.version:
            return Target(spec, spec.version)
        if spec is not None and version_id is None and spec.official:
            return Target(spec, served_version(spec.owner, spec.name))
        raise ProblemError(problems.invalid_version())

    async def create(
        self,
        label: str,
        target: Callable[[], Target],
        body: Mapping[str, Any],
        base_url: str,
        until_gone: Callable[[], Awaitable[object]],
    ) -> Prediction:
        """Count the call, find the model, apply the input's fault plan, and start a prediction."""
        payload = input_of(body)
        attempt = self.stats.record(label, payload)
        self.admit(Call.CREATE)
        chosen = target()
        wrong = check_input(chosen.spec, payload)
        if wrong is not None:
            raise ProblemError(wrong)
        webhook = webhook_target(body)
        directives = parse_directives(payload)
        if directives.unknown:
            log.warning("ignoring unknown directives: %s", ", ".join(directives.unknown))
        plan = plan_create(directives, attempt, self.settings.default_latency_s)
        if isinstance(plan, Problem):
            raise ProblemError(plan)
        if isinstance(plan, Hang):
            await self._hang(until_gone)
        prediction = Prediction(
            new_prediction_id(),
            chosen.spec.ref,
            chosen.version,
            payload,
            base_url,
            reads=plan.reads,
        )
        self._remember(prediction)
        self._start(prediction.id, self._runner.run(prediction, chosen.spec, plan))
        if webhook is not None:
            self.webhooks.when_done(prediction, webhook, directives.webhook)
        return prediction

    def get(self, prediction_id: str) -> Prediction:
        prediction = self._predictions.get(prediction_id)
        if prediction is None:
            raise ProblemError(problems.not_found())
        return prediction

    def read(self, prediction_id: str) -> Prediction:
        """A `GET` of the prediction, failing as its read faults say (each failure uses one)."""
        self.admit(Call.READ)
        prediction = self.get(prediction_id)
        reads = prediction.reads
        if reads.errors:
            prediction.reads = replace(reads, errors=reads.errors - 1)
            raise ProblemError(problems.read_error(reads.status))
        if reads.drops:
            prediction.reads = replace(reads, drops=reads.drops - 1)
            raise ConnectionDroppedError(prediction_id)
        return prediction

    def admit(self, call: Call, *, outage_applies: bool = True) -> None:
        """Refuse the call as a provider-wide fault says (503 in an outage, 429 when throttled)."""
        refused = self.faults.admit(call, outage_applies=outage_applies)
        if refused is not None:
            raise ProblemError(refused)

    def delivered(self, token: str, name: str) -> Media:
        """A delivered output file, while its prediction still has its output."""
        found = self.deliveries.get(token, name)
        if found is None:
            raise ProblemError(problems.not_found())
        prediction = self._predictions.get(found[0])
        if prediction is None or prediction.data_removed:
            raise ProblemError(problems.not_found())
        return found[1]

    def cancel(self, prediction_id: str) -> Prediction:
        self.admit(Call.READ)
        prediction = self.get(prediction_id)
        if not prediction.is_terminal:
            task = self._tasks.get(prediction_id)
            if task is not None:
                task.cancel()
            prediction.finish("canceled")
        return prediction

    async def wait(self, prediction: Prediction, seconds: float) -> bool:
        """Wait up to `seconds` for the prediction to end; whether it did."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(prediction.done.wait(), seconds)
        return prediction.is_terminal

    async def reset(self) -> None:
        """Forget every prediction, count and file, stopping runs in flight."""
        await self.close()
        self._predictions.clear()
        self.stats.reset()
        self.faults.clear()
        self.served = ServedCounts()
        self.files.reset()
        self.deliveries.reset()
        self.webhooks.reset()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.webhooks.close()

    def _remember(self, prediction: Prediction) -> None:
        self._predictions[prediction.id] = prediction
        excess = len(self._predictions) - MAX_PREDICTIONS
        if excess > 0:
            finished = [key for key, known in self._predictions.items() if known.is_terminal]
            for key in finished[:excess]:
                del self._predictions[key]

    def _start(self, prediction_id: str, run: Awaitable[None]) -> None:
        task = asyncio.ensure_future(run)
        self._tasks[prediction_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(prediction_id, None))

    async def _hang(self, until_gone: Callable[[], Awaitable[object]]) -> NoReturn:
        """Answer nothing until the client gives up (or the cap passes, then 504)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until_gone(), self.settings.hang_cap_s)
        raise ProblemError(problems.gateway_timeout())
