"""How fast does a projector rebuild replay the event log, next to a bare aiokafka read?

Writes a realistic event log (default 200,000 events: lectures, retries, failures,
regenerations with late results) to a fresh topic, then in the same run:

1. reads the whole topic with a bare aiokafka consumer (no decoding, nothing stored),
2. projects it with a live projector into a fresh PostgreSQL database (not timed), and
3. rebuilds the projection from it into a new generation (decode, reduce, write the views and
   offsets, one transaction per batch) and verifies it against the live views,

and prints records per second for the read and the rebuild's replay, and their ratio, and the
CPU time per record the rebuild's Python processes spent and, when the database runs on this
machine, the PostgreSQL backends serving it (figures the machine's load moves much less than
the rates). The topic and the database are removed afterwards. Needs the
local Kafka and PostgreSQL (`make infra`).

    python bench/projector_rebuild.py [--events 200000] [--batch N] [--workers N] [--processes N]

`--batch`, `--workers` and `--processes` default to the projector's own defaults. Records the
figure `projector_rebuild` (see `_results.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import time
import uuid
from collections.abc import AsyncIterator
from itertools import islice
from pathlib import Path

import asyncpg
from _results import record
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.envelope import encode
from shared.events import AssetEvent, LectureCreated
from shared.kafka import TopicSpec, create_topics, make_admin, make_producer, wait_for_leaders
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database
from timeline_projector.config import ProjectorSettings, Settings
from timeline_projector.rebuild import rebuild
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import Projection

PARTITIONS = 8
EVENTS_PER_LECTURE = 41  # what the synthetic log averages; only used to size it


async def write_log(kafka: KafkaSettings, topic: str, events: int) -> int:
    """Write at least `events` events, batched by the producer; wait once at the end."""
    producer = make_producer(kafka, linger_ms=50, max_batch_size=1024 * 1024)
    written = 0
    try:
        await producer.start()
        pending = []
        lectures = events // EVENTS_PER_LECTURE + 1
        for envelope in islice(synthetic_log(lectures, seed=42), events):
            payload = envelope.payload
            assert isinstance(payload, LectureCreated | AssetEvent)
            value, headers = encode(envelope)
            pending.append(
                await producer.send(
                    topic, value=value, key=payload.lecture_id.encode(), headers=headers
                )
            )
            written += 1
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return written


async def bare_read(kafka: KafkaSettings, topic: str) -> tuple[int, float, dict[int, int]]:
    """Read every record of `topic` once; (records, seconds, end offsets by partition)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        want = sum(ends.values())
        started = time.perf_counter()
        await consumer.seek_to_beginning(*tps)
        count = 0
        while count < want:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
            count += sum(len(batch) for batch in fetched.values())
        return count, time.perf_counter() - started, {tp.partition: e for tp, e in ends.items()}
    finally:
        await consumer.stop()


def _python_cpu_s() -> float:
    """User + system CPU seconds of this process and of its children that have ended (the
    rebuild's replay processes, once they have)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class BackendCpu:
    """CPU seconds the PostgreSQL backends connected to one database spent, sampled from
    `/proc` every 0.1 s (the database must run on this machine): a backend that ends counts
    with its last sample, so up to 0.1 s of each connection's work may be missed."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = {}
        self.readable = True
        self.before: dict[int, float] = {}
        self.at_mark: float | None = None

    def sample(self, pids: list[int]) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                self.readable = self.readable and pid in self.seconds
                continue
            self.seconds[pid] = (int(fields[11]) + int(fields[12])) / tick

    @property
    def total(self) -> float:
        """Seconds spent since the sampling began."""
        return sum(self.seconds.values()) - sum(self.before.values())

    def mark(self) -> None:
        """Remember `total` now (as of the last sample)."""
        self.at_mark = self.total


@contextlib.asynccontextmanager
async def backend_cpu(dsn: str) -> AsyncIterator[BackendCpu]:
    """Sample the CPU time of the database's backends (other than the sampler's own) while
    the block runs."""
    cpu = BackendCpu()
    conn = await asyncpg.connect(dsn)

    async def pids() -> list[int]:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row["pid"] for row in rows]

    async def poll() -> None:
        while True:
            cpu.sample(await pids())
            await asyncio.sleep(0.1)

    cpu.sample(await pids())
    cpu.before = dict(cpu.seconds)
    polling = asyncio.create_task(poll())
    try:
        yield cpu
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await conn.close()


async def main(events: int, batch: int, workers: int, processes: int) -> None:
    kafka = KafkaSettings(topic_namespace=f"bench{uuid.uuid4().hex[:8]}.")
    server = PostgresSettings()
    topic = topics.events(kafka.topic_namespace)
    await create_topics(kafka, [TopicSpec(topic, PARTITIONS)])
    await wait_for_leaders(kafka, [topic])
    try:
        started = time.perf_counter()
        written = await write_log(kafka, topic, events)
        print(f"wrote {written:,} events to {topic} in {time.perf_counter() - started:.1f} s")

        read, read_s, ends = await bare_read(kafka, topic)
        print(f"bare aiokafka read: {read:,} records in {read_s:.2f} s = {read / read_s:,.0f}/s")

        name = f"bench_{uuid.uuid4().hex[:8]}"
        async with fresh_database(server.dsn, name) as dsn:
            settings = Settings(
                kafka,
                PostgresSettings(dsn=dsn),
                ProjectorSettings(
                    rebuild_batch_size=batch,
                    rebuild_workers=workers,
                    rebuild_processes=processes,
                    verify_timeout_s=5,
                ),
            )
            # The live views to verify the rebuilt ones against: a live projector over the
            # whole log first (not timed), stopped once it has applied everything.
            live = Projection(settings)
            live.ends = ends
            started = time.perf_counter()
            async with live.running():
                await live.wait_caught_up(timeout_s=900)
            print(f"live projector:     caught up in {time.perf_counter() - started:.1f} s")
            conn = await asyncpg.connect(dsn)
            try:  # settle what autovacuum would otherwise do during the replay
                await conn.execute("VACUUM (ANALYZE)")
            finally:
                await conn.close()
            # A dry run: replay, compare with the live views, discard.
            cpu_before = _python_cpu_s()
            async with backend_cpu(dsn) as postgres_cpu:

                def progress(done: int, total: int) -> None:
                    # The last report comes when the replay (rows held back and the feed's
                    # indexes included) and its catch-up are over, before the verification.
                    if done >= total:
                        postgres_cpu.mark()

                report = await rebuild(settings, dry_run=True, progress=progress)
            cpu_s = _python_cpu_s() - cpu_before
        rate = report.records_per_s
        print(
            f"rebuild replay:     {report.records:,} records in {report.replay_seconds:.2f} s "
            f"= {rate:,.0f}/s ({report.rejected} rejected; {report.seconds:.1f} s in all)"
        )
        print(f"verified against the live views: {report.verified} ({report.note})")
        print(
            f"rebuild CPU:        {cpu_s * 1e6 / max(1, report.records):.0f} µs of Python per "
            "record (replay processes and this one, verification included); load average "
            + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        if postgres_cpu.readable:
            per_record = 1e6 / max(1, report.records)
            print(
                f"PostgreSQL CPU:     {(postgres_cpu.at_mark or 0.0) * per_record:.0f} µs per "
                "record in the backends serving the replay, "
                f"{postgres_cpu.total * per_record:.0f} µs with the verification "
                "(background writers not counted)"
            )
        bare = read / read_s
        record(
            "projector_rebuild",
            rate,
            "events/s",
            baseline=bare,
            goal=">= 0.40x and >= 10000/s",
            met=report.verified and rate >= 0.40 * bare and rate >= 10_000,
        )
    finally:
        admin = make_admin(kafka)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    defaults = ProjectorSettings.model_fields
    parser.add_argument(
        "--batch",
        type=int,
        default=defaults["rebuild_batch_size"].default,
        help="records per transaction",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults["rebuild_workers"].default,
        help="connections applying partitions",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=defaults["rebuild_processes"].default,
        help="processes applying partitions",
    )
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch, args.workers, args.processes))
