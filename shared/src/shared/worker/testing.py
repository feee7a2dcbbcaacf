"""Test support for the integration tests of the workers and the dispatcher: read a topic
from its beginning and wait, with a deadline, for a condition; run services in the
background, or a worker's console script as a process; produce records; ask the local
Replicate-compatible server what it was sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import httpx
from aiokafka import AIOKafkaConsumer

from shared import topics
from shared.envelope import Envelope, decode, encode, envelop
from shared.events import (
    AssetEvent,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    GenerateAsset,
    OutcomeEvent,
    Payload,
    PayloadError,
)
from shared.kafka import make_producer
from shared.kafka.records import Outgoing, Record
from shared.settings import KafkaSettings

_OUTCOMES = (AssetGenerated, AssetFailed, AssetNeedsPromptUpdate)


class TopicTail:
    """Every record of one topic, from the first, as `Record`s, collected in the background."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Self:
        try:
            await self._consumer.start()
        except BaseException:
            await self._consumer.stop()
            raise
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(Record.of(r) for r in records)
            if batch:
                self._changed.set()

    async def read_to_end(self, within_s: float) -> None:
        """Return once every record the topic holds now has been collected."""
        assigned = self._consumer.assignment()
        ends = await self._consumer.end_offsets(list(assigned))

        def caught_up() -> bool:
            seen: dict[int, int] = {}
            for record in self.records:
                seen[record.partition] = max(seen.get(record.partition, 0), record.offset + 1)
            return all(seen.get(tp.partition, 0) >= end for tp, end in ends.items())

        await self.wait_for(caught_up, within_s, f"the end of {self.topic}")

    async def wait_for(
        self, condition: Callable[[], bool], within_s: float, what: str = ""
    ) -> None:
        """Return as soon as `condition()` holds; raise `TimeoutError` after `within_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"after {within_s} s, still waiting for {what or condition}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                # woken by new records, or every half second for conditions on other state
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))


class EventLog(TopicTail):
    """The event log of one namespace, decoded."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        super().__init__(kafka, topic)
        self._decoded: list[Envelope | None] = []

    @property
    def envelopes(self) -> list[Envelope]:
        """The decodable records, in log order (each decoded once)."""
        cache = self._decoded
        for record in self.records[len(cache) :]:
            try:
                cache.append(decode(record.value, record.headers))
            except PayloadError:
                cache.append(None)
        return [e for e in cache if e is not None]

    def of_asset(self, asset_id: str) -> list[AssetEvent]:
        """The asset's events in log order."""
        return [
            e.payload
            for e in self.envelopes
            if isinstance(e.payload, AssetEvent) and e.payload.asset_id == asset_id
        ]

    def outcomes(self, asset_id: str) -> list[OutcomeEvent]:
        """The asset's terminal events (generated, failed, needs-prompt-update)."""
        return [e for e in self.of_asset(asset_id) if isinstance(e, _OUTCOMES)]

    def ended(self, *asset_ids: str) -> bool:
        """Whether every one of `asset_ids` has reached a terminal outcome."""
        return all(self.outcomes(a) for a in asset_ids)


class Runnable(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


@contextlib.asynccontextmanager
async def running(*services: Runnable, stop_within_s: float = 30) -> AsyncIterator[None]:
    """Run `services` in the background; on exit stop them and wait for them to return (an
    error inside one is raised here)."""
    tasks = [asyncio.create_task(s.run()) for s in services]
    try:
        yield
    finally:
        for service in services:
            service.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), stop_within_s)


async def produce(kafka: KafkaSettings, records: list[Outgoing]) -> None:
    """Write `records` in order with a producer of its own; return once the broker has them all."""
    producer = make_producer(kafka)
    try:
        await producer.start()
        for record in records:
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=record.headers
            )
    finally:
        await producer.stop()


def command_record(command: GenerateAsset, namespace: str = "") -> Outgoing:
    """The request-topic record of `command`, as the dispatcher writes it."""
    value, headers = encode(envelop(command, "test", correlation_id=command.correlation_id))
    return Outgoing(
        topics.requests(command.kind, namespace), command.asset_id.encode(), value, headers
    )


def event_record(
    payload: Payload, namespace: str = "", correlation_id: str | None = None
) -> Outgoing:
    """The event-log record of `payload`, keyed by its lecture."""
    value, headers = encode(envelop(payload, "test", correlation_id=correlation_id))
    lecture_id = str(getattr(payload, "lecture_id", ""))
    return Outgoing(topics.events(namespace), lecture_id.encode(), value, headers)


class WorkerProcess:
    """A worker's console script (`lecturegen-image-worker`, …) in a subprocess, as
    `make run` starts it, its JSON log lines in a file. `kill()` it when done."""

    def __init__(self, script: str, env: dict[str, str], log_path: Path) -> None:
        self._script = script
        self._env = env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        # the console script installed next to this interpreter
        script = Path(sys.executable).with_name(self._script)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(script), env=self._env, stdout=log, stderr=log
            )

    def lines(self) -> list[dict[str, object]]:
        """The JSON log lines written so far."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    async def started(self, within_s: float = 30) -> int:
        """Wait for the "worker started" line; the port of its probe server."""
        async with asyncio.timeout(within_s):
            while True:
                for line in self.lines():
                    if line.get("message") == "worker started":
                        return int(str(line["metrics_port"]))
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"{self._script} exited with {self.process.returncode}")
                await asyncio.sleep(0.1)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, within_s: float) -> int:
        """The exit code (a negative signal number when killed by one)."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within_s)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def sim_create_counts(base_url: str, contains: str) -> dict[str, int]:
    """The create calls the local Replicate-compatible server saw, per input text containing
    `contains`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/sim/stats", params={"contains": contains})
        response.raise_for_status()
        inputs = response.json()["inputs"].values()
        return {str(i["text"]): int(i["creates"]) for i in inputs}


async def sim_creates(base_url: str, contains: str) -> int:
    """How many predictions the local Replicate-compatible server was asked to create for
    inputs whose text contains `contains`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/sim/stats", params={"contains": contains})
        response.raise_for_status()
        return int(response.json()["total_creates"])
