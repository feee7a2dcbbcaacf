"""faust-streaming 0.15.3 with this project's aiokafka and Kafka 4.1, for the shape of job
the provider-health service is (decision 0028): raw values and headers in, a re-keyed forward
that keeps the record's own timestamp, a hopping-window count and a plain count that both
come back from their changelogs after a SIGKILL, and offsets (concurrency 1) that are never
committed past a record that was not handled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.kafka import TopicSpec, create_topics
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration

APP = Path(__file__).with_name("faust_probe_app.py")
COMMIT_INTERVAL_S = 2.8
"""faust's default `broker_commit_interval`."""


class ProbeApp:
    """The probe app as a child process."""

    def __init__(self, bootstrap: str, app_id: str, source: str, sink: str, marker: Path):
        self.args = [sys.executable, str(APP), bootstrap, app_id, source, sink, str(marker)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, env={**os.environ, "PYTHONWARNINGS": "ignore"})

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(30)
        return self.process.returncode


async def _send(
    producer: AIOKafkaProducer, topic: str, value: str, group: str, at_s: float, **extra: bytes
) -> None:
    # keyed by group, as the job is keyed: one partition per group keeps its records in order
    headers = [("group", group.encode()), *((k, v) for k, v in extra.items())]
    await producer.send_and_wait(
        topic, value.encode(), key=group.encode(), headers=headers, timestamp_ms=int(at_s * 1000)
    )


async def _read(
    consumer: AIOKafkaConsumer, count: int, timeout_s: float
) -> list[dict[str, object]]:
    got: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            got.extend(json.loads(r.value) for r in records)
    return got


async def test_faust_counts_windows_recovers_and_commits_safely(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    source, sink = f"probe-in-{unique_name}", f"probe-out-{unique_name}"
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await create_topics(kafka, [TopicSpec(source, 3), TopicSpec(sink, 1)])
    app = ProbeApp(kafka_bootstrap, f"probe-{unique_name}", source, sink, tmp_path / "died")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    reader = AIOKafkaConsumer(sink, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await reader.start()
    t0 = time.time() - 120  # event time, well before now: windows follow the records' own time
    try:
        app.start()
        for i in range(4):
            await _send(producer, source, f"a{i}", "a", t0 + i)
        await _send(producer, source, "b0", "b", t0 + 1)
        first = await _read(reader, 5, 120)
        by_value = {r["value"]: r for r in first}
        assert by_value["a3"]["total"] == 4
        assert by_value["a3"]["recent"] == 4
        assert by_value["b0"]["total"] == 1

        await asyncio.sleep(COMMIT_INTERVAL_S * 2)  # committed: what follows is handled once
        app.kill()  # no flush, no clean exit: the tables must come back from their changelogs
        # handled by the restarted app: the first one kills it once more before it is handled
        await _send(producer, source, "a4", "a", t0 + 4, die=b"once")
        app.start()
        await asyncio.to_thread(app.process.wait, 120)  # type: ignore[union-attr]
        assert (tmp_path / "died").exists()
        app.start()
        await _send(producer, source, "a5", "a", t0 + 30)  # 26 s after a4: a4 is out of window
        rest = await _read(reader, 2, 120)
        by_value = {r["value"]: r for r in rest}
        assert set(by_value) == {"a4", "a5"}, rest
        # a4 was handled at all: its offset was not committed while it was unhandled. The
        # counts came back from the changelogs (a lost table would count from 1 again); a
        # crash may count a record twice (at-least-once, decision 0028), never fewer.
        a4_total, a4_recent = (
            cast(int, by_value["a4"]["total"]),
            cast(int, by_value["a4"]["recent"]),
        )
        assert a4_total >= 5, "the table was not restored from its changelog"
        assert a4_recent >= 5, "the window was not restored from its changelog"
        assert by_value["a5"]["total"] == a4_total + 1
        assert by_value["a5"]["recent"] == 1, "the hopping window kept records older than its size"
        assert app.stop() == 0
    finally:
        if app.process is not None and app.process.poll() is None:
            app.kill()
        await reader.stop()
        await producer.stop()
