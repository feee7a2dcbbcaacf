"""The fault plan: what one create call does, given the input's directives and how many creates
with the same input came before it. Pure; the routes and the prediction runner carry it out.

When several counted directives are combined they take turns in a fixed order: the first
`hang` creates hang, the next `rate-limit` creates are throttled, the next `transient` creates fail
transiently, the next `expire-output` predictions lose their output as they finish, and only then
does the input's steady behaviour apply. `insufficient-credit` and `forbidden` refuse every create.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from replicate_sim import problems
from replicate_sim.directives import Directives, ReadFaults
from replicate_sim.problems import Problem

SENSITIVE = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
OUT_OF_MEMORY = "Director: unexpected error handling prediction (E1001)"
TIMEOUT_STARTING = "Director: unexpected error handling prediction (E6716)"
INTERRUPTED = "Prediction interrupted; please retry (code: PA)"
UNAVAILABLE = "Service is temporarily unavailable. Please try again later. (E004)"


class Ending(enum.Enum):
    """How a prediction that was created ends."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


class OutputStyle(enum.Enum):
    """What a succeeded prediction's output points at."""

    OWN = "own"
    EMPTY = "empty"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class Hang:
    """The create call never answers; the client has to give up."""


@dataclass(frozen=True)
class Run:
    """A prediction is created and, after `latency_s`, ends as described."""

    latency_s: float
    ending: Ending = Ending.SUCCEEDED
    error: str | None = None
    starts: bool = True
    """Whether it reaches `processing` before it ends (a start-up failure never does)."""
    output: OutputStyle = OutputStyle.OWN
    logs: str = ""
    expire_output: bool = False
    """Its output expires as it finishes (`output: null`, `data_removed: true`)."""
    reads: ReadFaults = field(default_factory=ReadFaults)
    """How its first reads fail."""


CreatePlan = Problem | Hang | Run
"""A `Problem` means the create call answers that HTTP error and no prediction is made."""


def plan_create(directives: Directives, attempt: int, default_latency_s: float) -> CreatePlan:
    """The plan for the `attempt`-th (1-based) create call with one exact input."""
    latency = default_latency_s if directives.latency_s is None else directives.latency_s
    if directives.invalid_input_field is not None:
        return problems.invalid_input(directives.invalid_input_field, "was rejected by the model")
    if directives.insufficient_credit:
        return problems.insufficient_credit()
    if directives.forbidden:
        return problems.forbidden()
    plan = _turn(directives, attempt, latency)
    return replace(plan, reads=directives.reads) if isinstance(plan, Run) else plan


def _turn(directives: Directives, attempt: int, latency: float) -> CreatePlan:
    turn = attempt
    if turn <= directives.hang:
        return Hang()
    turn -= directives.hang
    limit = directives.rate_limit
    if limit is not None and turn <= limit.times:
        return problems.throttled(limit.after_s)
    turn -= limit.times if limit is not None else 0
    if turn <= directives.transient:
        return transient_fault(turn, latency)
    turn -= directives.transient
    steady = steady_run(directives, latency)
    return replace(steady, expire_output=turn <= directives.expire_output)


def transient_fault(turn: int, latency_s: float) -> CreatePlan:
    """The `turn`-th (1-based) transient failure: E6716, PA, E004, HTTP 503, and round again."""
    rotation: tuple[CreatePlan, ...] = (
        Run(latency_s, Ending.FAILED, TIMEOUT_STARTING, starts=False),
        Run(latency_s, Ending.FAILED, INTERRUPTED, logs="Prediction interrupted.\n"),
        Run(latency_s, Ending.FAILED, UNAVAILABLE, starts=False),
        problems.unavailable(),
    )
    return rotation[(turn - 1) % len(rotation)]


def steady_run(directives: Directives, latency_s: float) -> Run:
    """What every create with this input does once its counted faults are used up."""
    if directives.sensitive:
        return Run(latency_s, Ending.FAILED, SENSITIVE)
    if directives.model_error:
        oom = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n"
        return Run(latency_s, Ending.FAILED, OUT_OF_MEMORY, logs=oom)
    if directives.aborted:
        return Run(latency_s, Ending.ABORTED, starts=False)
    if directives.empty_output:
        return Run(latency_s, output=OutputStyle.EMPTY)
    if directives.foreign_output:
        return Run(latency_s, output=OutputStyle.FOREIGN)
    return Run(latency_s)
