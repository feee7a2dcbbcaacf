"""How fast one worker moves requests, next to what the bare Kafka client does in the same run.

1. Throughput with an instant provider (a fake generator): N requests through one worker
   runtime (idempotency in PostgreSQL, and again in memory to show what PostgreSQL costs), next
   to a bare aiokafka loop that consumes the same N requests and produces one record for each
   (acks=all, idempotent, commit per batch). The ratio is the figure.
2. Makespan of 1,000 requests whose provider call takes 1 s each, next to the ideal
   1,000 / in-flight limit * 1 s.

Needs the local Kafka and PostgreSQL (`make infra`); `KAFKA_BOOTSTRAP_SERVERS` and
`DATABASE_URL` override where they are. Everything it creates is removed at the end.

    python bench/worker_throughput.py [--requests 2000] [--makespan-requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from shared import topics
from shared.envelope import encode, envelop
from shared.events import GenerateAsset
from shared.kafka import (
    TopicSettings,
    create_topics,
    events_topic,
    make_admin,
    make_consumer,
    make_producer,
    medium_topics,
)
from shared.kafka.publisher import KafkaPublisher, publish
from shared.kafka.records import Outgoing
from shared.media import MediaKind
from shared.settings import KafkaSettings, PostgresSettings, RetrySettings
from shared.testing.databases import fresh_database
from shared.worker import WorkerConfig, WorkerSettings, open_worker
from shared.worker.fakes import InMemoryGenerator
from shared.worker.runtime import WorkerRuntime
from shared.worker.versions import InMemoryVersionStore

KIND = MediaKind.IMAGE


def _commands(count: int, run: str) -> list[GenerateAsset]:
    now = datetime.now(UTC)
    return [
        GenerateAsset(
            command_id=f"{run}-c{i}",
            lecture_id=f"{run}-lecture-{i // 50}",
            asset_id=f"{run}-a{i}",
            kind=KIND,
            prompt_version=1,
            prompt=f"bench prompt {i}",
            model="bench/model",
            requested_at=now,
            correlation_id=f"{run}-corr",
        )
        for i in range(count)
    ]


async def _publish(kafka: KafkaSettings, commands: list[GenerateAsset]) -> None:
    producer = make_producer(kafka, linger_ms=20)
    await producer.start()
    try:
        acks = []
        for cmd in commands:
            value, headers = encode(envelop(cmd, "bench", correlation_id=cmd.correlation_id))
            acks.append(
                await producer.send(
                    topics.requests(KIND, kafka.topic_namespace),
                    value,
                    key=cmd.asset_id.encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


def _config(kafka: KafkaSettings, dsn: str, group: str, in_flight: int) -> WorkerConfig:
    return WorkerConfig(
        worker=WorkerSettings(group_id=group, max_in_flight=in_flight),
        kafka=kafka,
        policy=RetrySettings().policy(),
        postgres=PostgresSettings(dsn=dsn),
        topics=TopicSettings(),
    )


def _completed(runtime: WorkerRuntime) -> float:
    value = runtime.metrics.registry.get_sample_value(
        "lecturegen_worker_attempts_total", {"medium": KIND.value, "outcome": "generated"}
    )
    return value or 0.0


async def _run_worker(
    runtime: WorkerRuntime, generator: InMemoryGenerator, count: int
) -> tuple[float, float]:
    """Run until `count` outcomes are out; (first call, last outcome) in monotonic seconds."""
    first_call: float | None = None
    task = asyncio.create_task(runtime.run())
    try:
        while _completed(runtime) < count:
            if first_call is None and generator.calls:
                first_call = time.monotonic()
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return first_call or time.monotonic(), time.monotonic()
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 60)


async def bench_worker(
    kafka: KafkaSettings, dsn: str, count: int, in_flight: int, latency_s: float, memory: bool
) -> float:
    """Seconds from the first provider call to the last outcome, for `count` requests."""
    run = uuid.uuid4().hex[:8]
    commands = _commands(count, run)
    generator = InMemoryGenerator(KIND, latency_s=latency_s)
    config = _config(kafka, dsn, f"bench-{run}", in_flight)
    store = InMemoryVersionStore() if memory else None
    async with open_worker(KIND, generator, config, store) as runtime:
        await _publish(kafka, commands)
        start, end = await _run_worker(runtime, generator, count)
    return end - start


async def bench_bare(kafka: KafkaSettings, count: int) -> float:
    """A bare aiokafka consume → produce → await acks → commit loop over `count` requests."""
    run = uuid.uuid4().hex[:8]
    await _publish(kafka, _commands(count, run))
    producer = make_producer(kafka)
    await producer.start()
    publisher = KafkaPublisher(producer)
    consumer: AIOKafkaConsumer = make_consumer(
        kafka, f"bare-{run}", [topics.requests(KIND, kafka.topic_namespace)]
    )
    await consumer.start()
    seen, start = 0, None
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            if start is None and batch:
                start = time.monotonic()
            out = [
                Outgoing(topics.events(kafka.topic_namespace), r.key or b"", r.value or b"", [])
                for records in batch.values()
                for r in records
            ]
            if out:
                await publish(publisher, out)
                await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
            seen += len(out)
    finally:
        await consumer.stop()
        await producer.stop()
    return time.monotonic() - (start or time.monotonic())


@contextlib.asynccontextmanager
async def _namespace(base: KafkaSettings) -> AsyncIterator[KafkaSettings]:
    kafka = base.model_copy(update={"topic_namespace": f"bench{uuid.uuid4().hex[:8]}."})
    policy = RetrySettings().policy()
    specs = medium_topics(KIND, policy, kafka.topic_namespace, TopicSettings())
    names = [s.name for s in specs] + [topics.events(kafka.topic_namespace)]
    try:
        yield kafka
    finally:
        admin = make_admin(kafka)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            await admin.delete_topics([n for n in names if n in existing])
        finally:
            await admin.close()


async def main(requests: int, makespan_requests: int, in_flight: int) -> None:
    base = KafkaSettings()
    server = PostgresSettings().dsn
    async with fresh_database(server, f"bench_{uuid.uuid4().hex[:8]}") as dsn:
        async with _namespace(base) as kafka:
            ns, settings = kafka.topic_namespace, TopicSettings()
            await create_topics(
                kafka,
                [
                    *medium_topics(KIND, RetrySettings().policy(), ns, settings),
                    events_topic(ns, settings),
                ],
            )
            bare = await bench_bare(kafka, requests)
            pg = await bench_worker(kafka, dsn, requests, in_flight, 0.0, memory=False)
            memory = await bench_worker(kafka, dsn, requests, in_flight, 0.0, memory=True)
        print(f"throughput, instant provider, {requests} requests, in-flight {in_flight}:")
        print(f"  bare aiokafka consume-produce-commit : {requests / bare:8.0f} /s")
        print(
            f"  worker (idempotency in PostgreSQL)   : {requests / pg:8.0f} /s"
            f"   {pg / bare:5.1f}x the bare time"
        )
        print(
            f"  worker (idempotency in memory)       : {requests / memory:8.0f} /s"
            f"   {memory / bare:5.1f}x the bare time"
        )
        if makespan_requests <= 0:
            return
        async with _namespace(base) as kafka:
            took = await bench_worker(kafka, dsn, makespan_requests, in_flight, 1.0, memory=False)
        ideal = makespan_requests / in_flight * 1.0
        print(f"makespan, {makespan_requests} requests, provider 1 s each, in-flight {in_flight}:")
        print(f"  measured {took:6.1f} s   ideal {ideal:6.1f} s   ({took / ideal:4.2f}x ideal)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--makespan-requests", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.makespan_requests, args.in_flight))
