"""How late a retry runs: the time from the `next_attempt_at` a worker promises in its
`asset.retrying` event to the moment the retry reaches the provider.

One worker runtime (idempotency in PostgreSQL) over an instant provider that fails each request
transiently one, two or three times in turn, with short tiers (0.5 s, 1 s, 2 s), so that about
1,000 retries spread over every tier. Each provider call is timed as it starts; the promised
times come from the `asset.retrying` events in the event log. Records `retry_lateness_p99_ms`
(goal: p99 <= 250 ms late) and `retry_early` (retries that ran before their time; goal: 0).
Needs the local Kafka and PostgreSQL (`make infra`); everything it creates is removed.

    python bench/retry_timing.py [--retries 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

from _results import record
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.envelope import decode, encode, envelop
from shared.errors import GenerationError
from shared.events import AssetRetrying, GenerateAsset
from shared.kafka import (
    TopicSettings,
    create_topics,
    events_topic,
    make_admin,
    make_producer,
    medium_topics,
    wait_for_leaders,
)
from shared.media import MediaKind
from shared.ports import Attempt
from shared.results import GenerationResult
from shared.retry import RetryPolicy
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.fakes import InMemoryGenerator

KIND = MediaKind.IMAGE
POLICY = RetryPolicy(max_retries=3, base_delay_s=0.5, backoff_factor=2.0, max_tier_s=2.0)
FAILURES = (1, 2, 3)
"""Request i fails FAILURES[i % 3] times before it succeeds: two retries a request on average."""


class TimedGenerator(InMemoryGenerator):
    """Notes when each attempt reaches the provider: (asset id, attempt number) → time."""

    def __init__(self, script: dict[str, list[GenerationError | None]]) -> None:
        super().__init__(KIND, script)
        self.started: dict[tuple[str, int], datetime] = {}

    async def generate(self, attempt: Attempt) -> GenerationResult:
        self.started[(attempt.command.asset_id, attempt.number)] = datetime.now(UTC)
        return await super().generate(attempt)


def commands(count: int, run: str) -> list[GenerateAsset]:
    now = datetime.now(UTC)
    return [
        GenerateAsset(
            command_id=f"{run}-c{i}",
            lecture_id=f"{run}-lecture-{i // 20}",
            asset_id=f"{run}-a{i}",
            kind=KIND,
            prompt_version=1,
            prompt=f"{run} prompt {i}",
            model="bench/model",
            requested_at=now,
            correlation_id=f"{run}-corr",
        )
        for i in range(count)
    ]


async def publish(kafka: KafkaSettings, items: list[GenerateAsset], per_s: float) -> None:
    """Write the requests at `per_s` a second, so the retries spread over time as well."""
    producer = make_producer(kafka)
    await producer.start()
    try:
        started = time.perf_counter()
        for i, cmd in enumerate(items):
            value, headers = encode(envelop(cmd, "bench", correlation_id=cmd.correlation_id))
            await producer.send(
                topics.requests(KIND, kafka.topic_namespace),
                value,
                key=cmd.asset_id.encode(),
                headers=headers,
            )
            ahead = started + (i + 1) / per_s - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)
        await producer.flush()
    finally:
        await producer.stop()


async def promised_times(kafka: KafkaSettings, expected: int) -> dict[tuple[str, int], datetime]:
    """(asset id, attempt that failed) → the `next_attempt_at` of its `asset.retrying`, read
    from the event log until all `expected` are found."""
    topic = topics.events(kafka.topic_namespace)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(TopicSettings().events_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        promised: dict[tuple[str, int], datetime] = {}
        deadline = time.monotonic() + 60
        while len(promised) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"found {len(promised)} of {expected} asset.retrying events")
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    payload = decode(r.value, tuple(r.headers)).payload
                    if isinstance(payload, AssetRetrying):
                        promised[(payload.asset_id, payload.attempt)] = payload.next_attempt_at
        return promised
    finally:
        await consumer.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def generated(runtime: object) -> float:
    registry = runtime.metrics.registry  # type: ignore[attr-defined]
    value = registry.get_sample_value(
        "lecturegen_worker_attempts_total", {"medium": KIND.value, "outcome": "generated"}
    )
    return value or 0.0


async def main(retries: int) -> None:
    run = uuid.uuid4().hex[:8]
    count = round(retries / (sum(FAILURES) / len(FAILURES)))
    items = commands(count, run)
    transient = GenerationError.transient("bench: try again", provider="bench")
    script: dict[str, list[GenerationError | None]] = {
        cmd.prompt: [transient] * FAILURES[i % len(FAILURES)] for i, cmd in enumerate(items)
    }
    generator = TimedGenerator(script)
    kafka = KafkaSettings(topic_namespace=f"bench{run}.")
    specs = [
        *medium_topics(KIND, POLICY, kafka.topic_namespace, TopicSettings()),
        events_topic(kafka.topic_namespace, TopicSettings()),
    ]
    await create_topics(kafka, specs)
    await wait_for_leaders(kafka, [s.name for s in specs])
    try:
        async with fresh_database(PostgresSettings().dsn, f"bench_{run}") as dsn:
            config = WorkerConfig(
                worker=WorkerSettings(group_id=f"bench-{run}", max_in_flight=32),
                kafka=kafka,
                policy=POLICY,
                postgres=PostgresSettings(dsn=dsn),
                topics=TopicSettings(),
            )
            async with open_worker(KIND, generator, config) as runtime:
                task = asyncio.create_task(runtime.run())
                try:
                    await publish(kafka, items, per_s=count / 5)
                    deadline = time.monotonic() + 120
                    while generated(runtime) < count:
                        if task.done():
                            task.result()
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{generated(runtime):.0f} of {count} generated")
                        await asyncio.sleep(0.05)
                finally:
                    runtime.stop()
                    await asyncio.wait_for(task, 60)
        retries = sum(FAILURES[i % len(FAILURES)] for i in range(count))
        promised = await promised_times(kafka, retries)
    finally:
        admin = make_admin(kafka)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        finally:
            await admin.close()

    late_ms = []
    by_attempt: dict[int, list[float]] = {}
    for (asset_id, failed_attempt), due in sorted(promised.items(), key=lambda kv: kv[1]):
        ran = generator.started[(asset_id, failed_attempt + 1)]
        late_ms.append((ran - due).total_seconds() * 1000)
        by_attempt.setdefault(failed_attempt, []).append(late_ms[-1])
    for attempt, lates in sorted(by_attempt.items()):
        print(
            f"  after attempt {attempt}: {len(lates)} retries, late p50 "
            f"{percentile(lates, 0.5):.0f} ms, p99 {percentile(lates, 0.99):.0f} ms"
        )
    early = sum(1 for ms in late_ms if ms < 0)
    p50, p99 = percentile(late_ms, 0.5), percentile(late_ms, 0.99)
    print(
        f"{len(late_ms):,} retries over tiers {POLICY.tiers_ms} ms: late p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms, max {max(late_ms):.0f} ms; {early} early "
        f"(earliest {min(late_ms):.0f} ms)"
    )
    record("retry_lateness_p99_ms", p99, "ms", goal="<= 250 ms", met=p99 <= 250)
    record("retry_early", early, "retries", goal="0", met=early == 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retries", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.retries))
