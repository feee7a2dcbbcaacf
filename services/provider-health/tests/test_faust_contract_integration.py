"""faust-streaming 0.15.3 with this project's aiokafka and Kafka 4.1, for the shape of job
the provider-health service is (decision 0028): raw values and headers in, a re-keyed forward
that keeps the record's own timestamp, a hopping-window count and a plain count that both
come back from their changelogs after a SIGKILL, and offsets (concurrency 1) that are never
committed past a record that was not handled.

The test waits on what the app says it did (see `faust_probe_app.py`) and on the offsets its
group committed, never on fixed times, within one budget below the suite's timeout. A failure
names the step and shows every line the app said, with when.

A faust defect this test meets now and then (about one run in eight here, more under load):
a restarted app says `ready`, then handles nothing while a record waits for it; it is reported
as a stall after `STALL_S`. A task dump of a stalled app showed recovery complete and the fetcher
past the waiting record (offset 4, read offset 4), which it had handed to the agent's queue: the
record was fetched, then lost before the agent saw it, and is never fetched again. Faust resumes
flow control at the end of recovery, and resuming clears the stream queues, so a record fetched
during the last step of recovery is the likely loss. Seeking before resuming the partitions did
not cure it; static membership (`consumer_group_instance_id`) made restarts fast, but then a
waiting record was skipped, so the app keeps plain group membership.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn, cast

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka import TopicSpec, create_topics
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration

APP = Path(__file__).with_name("faust_probe_app.py")
BUDGET_S = 270.0
"""What the whole test may take, below the suite's per-test timeout, so that a slow machine
fails here with a message saying where it stood. Unloaded, it takes about 30 s, most of it
the restarted app waiting for the dead one's session (10 s) to end before it joins."""
STALL_S = 60.0
"""How long an app that said `ready` may say nothing while a record waits for it."""


class Deadline:
    """The test's one time budget, shared by its waits: a slow step may use what others left."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.at = time.monotonic() + budget_s

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())


class ProbeApp:
    """The probe app as a child process, and the lines it said about its progress."""

    def __init__(
        self, bootstrap: str, app_id: str, source: str, sink: str, marker: Path, deadline: Deadline
    ) -> None:
        self.args = [str(APP), bootstrap, app_id, source, sink, str(marker)]
        self.deadline = deadline
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.said: list[str] = []
        self.history: list[str] = []
        self._started_at = 0.0
        self._last_said_at = 0.0
        self._reading: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.runs += 1
        self.said = []
        self._started_at = self._last_said_at = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        self._reading = asyncio.create_task(self._listen(self.process, self.runs))

    async def _listen(self, process: asyncio.subprocess.Process, run: int) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode().strip()
            if run == self.runs:
                self.said.append(line)
                self._last_said_at = time.monotonic()
            self.history.append(f"run {run} at {time.monotonic() - self._started_at:.1f} s: {line}")

    async def says(self, line: str, doing: str) -> None:
        """Return once the running app has said `line`; fail saying `doing` if it does not."""
        while line not in self.said:
            self.check(f"it did not say {line!r}", doing)
            await asyncio.sleep(0.1)

    def check(self, what: str, doing: str) -> None:
        """Fail, saying `what` while `doing`, if the app that should make progress has exited,
        stalled or run out of the test's budget."""
        if self.process is None or self.process.returncode is not None:
            self.fail(f"it exited: {what}", doing)
        silent_s = time.monotonic() - self._last_said_at
        if "ready" in self.said and silent_s > STALL_S:
            self.fail(f"it stalled, ready but silent for {silent_s:.0f} s: {what}", doing)
        if not self.deadline.left():
            self.fail(what, doing)

    async def exits(self, doing: str) -> int:
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), self.deadline.left())
        except TimeoutError:
            self.fail("it did not exit", doing)

    def fail(self, what: str, doing: str) -> NoReturn:
        took = time.monotonic() - self._started_at
        where = f"{took:.0f} s into run {self.runs}, test budget {self.deadline.budget_s:.0f} s"
        pytest.fail(
            f"{doing}: {what} ({where}); the app said:\n" + "\n".join(self.history),
            pytrace=False,
        )

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.wait_for(self.process.wait(), 10)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        return await self.exits("stopping the app with SIGTERM")


async def _send(
    producer: AIOKafkaProducer, topic: str, value: str, group: str, at_s: float, **extra: bytes
) -> None:
    # keyed by group, as the job is keyed: one partition per group keeps its records in order
    headers = [("group", group.encode()), *((k, v) for k, v in extra.items())]
    await producer.send_and_wait(
        topic, value.encode(), key=group.encode(), headers=headers, timestamp_ms=int(at_s * 1000)
    )


async def _read(
    consumer: AIOKafkaConsumer, until: set[str], app: ProbeApp, doing: str
) -> list[dict[str, object]]:
    """The counts the app writes, up to the first of each record of `until`."""
    got: list[dict[str, object]] = []
    while not until <= {r["value"] for r in got}:
        app.check(f"it wrote {got}, not yet {sorted(until)}", doing)
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            got.extend(json.loads(r.value) for r in records)
    last = max(next(i for i, r in enumerate(got) if r["value"] == v) for v in until)
    return got[: last + 1]


async def _committed_all(
    admin: AIOKafkaAdminClient, reader: AIOKafkaConsumer, app: ProbeApp, topics: list[str]
) -> None:
    """Return once the app's group has committed every record of `topics` as handled."""
    group = app.args[2]
    partitions = [
        TopicPartition(t["topic"], p["partition"])
        for t in await admin.describe_topics(topics)
        for p in t["partitions"]
    ]
    while True:
        ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        behind = {
            f"{tp.topic}[{tp.partition}]": (committed[tp].offset if tp in committed else None, end)
            for tp, end in ends.items()
            if end and (tp not in committed or committed[tp].offset < end)
        }
        if not behind:
            return
        if not app.deadline.left():
            app.fail(f"committed offsets behind the ends: {behind}", "waiting for the commits")
        await asyncio.sleep(0.2)


async def test_faust_counts_windows_recovers_and_commits_safely(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    source, sink, app_id = (
        f"probe-in-{unique_name}",
        f"probe-out-{unique_name}",
        f"probe-{unique_name}",
    )
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await create_topics(kafka, [TopicSpec(source, 3), TopicSpec(sink, 1)])
    app = ProbeApp(kafka_bootstrap, app_id, source, sink, tmp_path / "died", Deadline(BUDGET_S))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    reader = AIOKafkaConsumer(sink, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    await reader.start()
    await admin.start()
    t0 = time.time() - 120  # event time, well before now: windows follow the records' own time
    try:
        await app.start()
        for i in range(4):
            await _send(producer, source, f"a{i}", "a", t0 + i)
        await _send(producer, source, "b0", "b", t0 + 1)
        first = await _read(reader, {"a3", "b0"}, app, "counting the first records")
        by_value = {r["value"]: r for r in first}
        assert by_value["a3"]["total"] == 4
        assert by_value["a3"]["recent"] == 4
        assert by_value["b0"]["total"] == 1

        # committed, both the input and the re-keyed stage: what follows is handled once
        await _committed_all(admin, reader, app, [source, f"{app_id}-keyed"])
        await app.kill()  # no flush, no clean exit: the tables must come back from their changelogs
        # handled by the restarted app: the first one kills it once more before it is handled
        await _send(producer, source, "a4", "a", t0 + 4, die=b"once")
        await app.start()
        await app.says("dying a4", "the restarted app reaching its planned crash")
        assert await app.exits("the restarted app crashing") == 9
        await app.start()
        await _send(producer, source, "a5", "a", t0 + 30)  # 26 s after a4: a4 is out of window
        rest = await _read(reader, {"a5"}, app, "counting after the crash")
        # a4 was handled at all: its offset was not committed while it was unhandled. A crash
        # may count a record twice (at-least-once, decision 0028), so a4 may come twice; its
        # counts came back from the changelogs (a lost table would count from 1 again).
        *a4, a5 = rest
        assert a4, f"a4 was skipped: {rest}"
        assert {r["value"] for r in a4} == {"a4"}, rest
        a4_total, a4_recent = cast(int, a4[0]["total"]), cast(int, a4[0]["recent"])
        assert a4_total >= 5, "the table was not restored from its changelog"
        assert a4_recent >= 5, "the window was not restored from its changelog"
        assert a5["total"] == cast(int, a4[-1]["total"]) + 1
        assert a5["recent"] == 1, "the hopping window kept records older than its size"
        assert await app.stop() == 0
    finally:
        if app.process is not None and app.process.returncode is None:
            await app.kill()
        await admin.close()
        await reader.stop()
        await producer.stop()
