"""How far behind the live projector falls under a steady load.

Starts the projector as its own process (`python -m timeline_projector`) over a fresh topic
and database, writes a realistic event log into the topic at a steady rate (default 1,000
events/s for 60 s), and watches the offsets the projector stores with its views (polled every
20 ms). An event's lag is the time from handing it to the producer to the first poll that
finds it applied (so up to one poll interval too long). Records `projector_live_lag_p99_ms`
(goal: p99 <= 1 s). Needs the local Kafka and PostgreSQL (`make infra`); everything it
creates is removed afterwards.

    python bench/projector_live_lag.py [--rate 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from itertools import islice
from pathlib import Path

import asyncpg
from _results import record
from aiokafka.structs import RecordMetadata

from shared import topics
from shared.envelope import encode
from shared.events import AssetEvent, LectureCreated
from shared.kafka import TopicSpec, create_topics, make_admin, make_producer, wait_for_leaders
from shared.read_model.tables import OFFSETS
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database
from timeline_projector.synthetic import synthetic_log

PARTITIONS = 8
POLL_S = 0.02
GROUP = "bench-live-lag"
LOGS = Path(__file__).resolve().parent.parent / ".local" / "bench"


Encoded = tuple[bytes, bytes, list[tuple[str, bytes]]]
"""(key, value, headers) of a record."""


def events(count: int) -> Iterator[Encoded]:
    """`count` records of a realistic log (fresh lectures, so every event is new), encoded
    before the clock starts so that making them does not compete with the projector."""
    encoded: list[Encoded] = []
    seed = 0
    while len(encoded) < count:
        for envelope in islice(synthetic_log(500, seed=seed), count - len(encoded)):
            payload = envelope.payload
            assert isinstance(payload, LectureCreated | AssetEvent)
            value, headers = encode(envelope)
            encoded.append((payload.lecture_id.encode(), value, headers))
        seed += 1
    return iter(encoded)


@contextlib.asynccontextmanager
async def projector(kafka: KafkaSettings, dsn: str) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "LECTUREGEN_TOPIC_NAMESPACE": kafka.topic_namespace,
        "DATABASE_URL": dsn,
        "LECTUREGEN_DATABASE_URL": dsn,
        "LECTUREGEN_PROJECTOR_GROUP_ID": GROUP,
        "LECTUREGEN_PROJECTOR_METRICS_HOST": "127.0.0.1",
        "LECTUREGEN_PROJECTOR_METRICS_PORT": "0",
        "LECTUREGEN_PROJECTOR_LOG_LEVEL": "WARNING",
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / "projector_live_lag.log").open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "timeline_projector", env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=60)


class OffsetWatch:
    """The stored next offsets of the projector, polled: (time, next offset) by partition."""

    def __init__(self, dsn: str, topic: str) -> None:
        self._dsn = dsn
        self._topic = topic
        self.seen: dict[int, list[tuple[float, int]]] = {p: [] for p in range(PARTITIONS)}

    async def run(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            while True:
                try:
                    rows = await conn.fetch(
                        f"SELECT partition, next_offset FROM {OFFSETS.qualified()} "
                        "WHERE consumer = $1 AND topic = $2",
                        GROUP,
                        self._topic,
                    )
                except asyncpg.UndefinedTableError:  # the projector has not migrated yet
                    rows = []
                now = time.perf_counter()
                for row in rows:
                    history = self.seen[row["partition"]]
                    if not history or history[-1][1] != row["next_offset"]:
                        history.append((now, row["next_offset"]))
                await asyncio.sleep(POLL_S)
        finally:
            await conn.close()

    def applied_at(self, partition: int, offset: int) -> float | None:
        history = self.seen[partition]
        i = bisect.bisect_right([next_offset for _, next_offset in history], offset)
        return history[i][0] if i < len(history) else None

    def reached(self, ends: dict[int, int]) -> bool:
        return all(
            self.seen[p] and self.seen[p][-1][1] >= end for p, end in ends.items() if end > 0
        )


async def produce_steadily(
    kafka: KafkaSettings, topic: str, log: Iterator[Encoded], rate: int, seconds: float
) -> list[tuple[float, RecordMetadata]]:
    """Send `rate` events a second for `seconds`, in 10 ms ticks; (sent at, where) of each."""
    producer = make_producer(kafka)
    sent: list[tuple[float, asyncio.Future[RecordMetadata]]] = []
    try:
        await producer.start()
        started = time.perf_counter()
        tick = 0.01
        total = int(rate * seconds)
        while len(sent) < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            for key, value, headers in islice(log, due - len(sent)):
                now = time.perf_counter()
                future = await producer.send(topic, value=value, key=key, headers=headers)
                sent.append((now, future))
            await asyncio.sleep(tick)
        metas = await asyncio.gather(*(future for _, future in sent))
    finally:
        await producer.stop()
    return [(at, meta) for (at, _), meta in zip(sent, metas, strict=True)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(rate: int, seconds: float) -> None:
    kafka = KafkaSettings(topic_namespace=f"bench{uuid.uuid4().hex[:8]}.")
    topic = topics.events(kafka.topic_namespace)
    await create_topics(kafka, [TopicSpec(topic, PARTITIONS)])
    await wait_for_leaders(kafka, [topic])
    log = events(200 + int(rate * seconds))
    try:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        async with fresh_database(PostgresSettings().dsn, name) as dsn:
            watch = OffsetWatch(dsn, topic)
            watching = asyncio.create_task(watch.run())
            try:
                async with projector(kafka, dsn) as proc:
                    warm = await produce_steadily(kafka, topic, log, 200, 1.0)
                    await wait_applied(watch, warm, proc)
                    sent = await produce_steadily(kafka, topic, log, rate, seconds)
                    await wait_applied(watch, sent, proc)
            finally:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
    finally:
        admin = make_admin(kafka)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()

    lags = []
    for at, meta in sent:
        applied = watch.applied_at(meta.partition, meta.offset)
        assert applied is not None
        lags.append((applied - at) * 1000)
    span = sent[-1][0] - sent[0][0]
    print(
        f"{len(sent):,} events in {span:.1f} s ({len(sent) / span:,.0f}/s); lag ms: "
        f"p50 {percentile(lags, 0.5):.0f}, p99 {percentile(lags, 0.99):.0f}, max {max(lags):.0f}"
    )
    p99 = percentile(lags, 0.99)
    record("projector_live_lag_p99_ms", p99, "ms", goal="<= 1000 ms", met=p99 <= 1000)


async def wait_applied(
    watch: OffsetWatch, sent: list[tuple[float, RecordMetadata]], proc: asyncio.subprocess.Process
) -> None:
    ends: dict[int, int] = {}
    for _, meta in sent:
        ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    deadline = time.monotonic() + 120
    while not watch.reached(ends):
        if proc.returncode is not None:
            raise RuntimeError(f"the projector exited; see {LOGS / 'projector_live_lag.log'}")
        if time.monotonic() > deadline:
            raise TimeoutError("the projector did not catch up within 120 s")
        await asyncio.sleep(POLL_S)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))
