"""In-memory stand-ins for the worker's ports, for unit tests and benchmarks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from shared.errors import GenerationError
from shared.kafka.publisher import Acks
from shared.kafka.records import Outgoing
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import (
    GenerationDebug,
    GenerationFailed,
    GenerationResult,
    GenerationSucceeded,
    StoredMedia,
)


class ProcessKilled(BaseException):
    """Stands in for the worker process dying mid-call: nothing in the turn catches it."""


class InMemoryGenerator:
    """A `Generator` that answers from a script: for each prompt, the errors its attempts fail
    with, in order (None: that attempt succeeds); once the script is used up, attempts succeed.
    Every attempt is recorded in `calls` (unless `record_calls` is false: a benchmark's fake
    should not keep every attempt alive) and counted in `call_count`; each takes `latency_s`
    from its start, saving a created prediction's id included (a prediction runs at the
    provider from its creation on).

    Like a provider, it creates a prediction unless the attempt resumes one, and reports it
    through `Attempt.on_created`; `created` lists them. For a prompt in `killed_after_create`
    the first prediction created is followed by `ProcessKilled` instead of an answer."""

    def __init__(
        self,
        kind: MediaKind,
        script: Mapping[str, Sequence[GenerationError | None]] | None = None,
        latency_s: float = 0.0,
        killed_after_create: Collection[str] = (),
        record_calls: bool = True,
    ) -> None:
        self.kind = kind
        self.calls: list[Attempt] = []
        self.call_count = 0
        self._record_calls = record_calls
        self.created: list[str] = []
        self._creates = 0
        self._script = {prompt: list(steps) for prompt, steps in (script or {}).items()}
        self._seen: dict[str, int] = defaultdict(int)
        self._latency_s = latency_s
        self._killed_after_create = set(killed_after_create)

    def calls_for(self, prompt: str) -> int:
        return self._seen[prompt]

    async def generate(self, attempt: Attempt) -> GenerationResult:
        self.call_count += 1
        if self._record_calls:
            self.calls.append(attempt)
        began = asyncio.get_running_loop().time()
        prompt = attempt.command.prompt
        prediction_id = attempt.resume_prediction_id or await self._create(attempt)
        step = self._seen[prompt]
        self._seen[prompt] += 1
        if self._latency_s:
            # like a provider's prediction, which runs from its creation on: saving its id
            # (`on_created`) does not make the attempt longer
            elapsed = asyncio.get_running_loop().time() - began
            await asyncio.sleep(max(0.0, self._latency_s - elapsed))
        steps = self._script.get(prompt, [])
        error = steps[step] if step < len(steps) else None
        debug = GenerationDebug(
            prompt=prompt,
            model=attempt.command.model,
            provider="in-memory",
            prediction_id=prediction_id,
        )
        if error is not None:
            return GenerationFailed(kind=self.kind, error=error, debug=debug)
        media = StoredMedia(
            blob_key=f"in-memory/{attempt.command.asset_id}", content_type="image/png", size_bytes=1
        )
        return GenerationSucceeded(kind=self.kind, media=media, debug=debug)

    async def _create(self, attempt: Attempt) -> str:
        self._creates += 1
        prediction_id = f"p-{attempt.command.asset_id}-{self._creates}"
        if self._record_calls:
            self.created.append(prediction_id)
        if attempt.on_created is not None:
            await attempt.on_created(prediction_id)
        if attempt.command.prompt in self._killed_after_create:
            self._killed_after_create.discard(attempt.command.prompt)
            raise ProcessKilled(prediction_id)
        return prediction_id


class InMemoryPublisher:
    """A `Publisher` that keeps what it is given, in order; `failures[n]` is raised by the
    n-th `enqueue` (1-based) instead of keeping its records, as a broker that went away would."""

    def __init__(self, failures: Mapping[int, Exception] | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.enqueued = 0
        self._failures = dict(failures or {})

    async def enqueue(self, records: list[Outgoing]) -> Acks:
        self.enqueued += 1
        if (failure := self._failures.pop(self.enqueued, None)) is not None:
            raise failure
        self.sent.extend(records)
        acked: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    def to(self, topic: str) -> list[Outgoing]:
        return [o for o in self.sent if o.topic == topic]
