"""A media worker's process: settings read, connections opened, runtime run, all here.

A worker package's `main()` is one call: `run_worker(SPEC, ImageWorkerSettings, prog=...)`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx

from shared import topics
from shared.blobstore import open_blob_store
from shared.consumer_lag import ConsumerLag
from shared.health.board import CircuitBoard
from shared.health.follower import following
from shared.kafka import (
    TopicSettings,
    create_topics,
    events_topic,
    make_consumer,
    make_producer,
    medium_topics,
)
from shared.kafka.publisher import KafkaPublisher
from shared.media import MediaKind
from shared.ports import Generator
from shared.postgres import patiently
from shared.providers import (
    MediumSpec,
    ReplicateGenerator,
    ReplicateOptions,
    close_replicate_client,
    replicate_client,
)
from shared.providers.budget import AccountBudget, BudgetLimits
from shared.providers.budget_metrics import register_budget_metrics
from shared.providers.webhook_wait import WebhookWait
from shared.retry import RetryPolicy
from shared.service import About, run_service, running
from shared.settings import (
    BlobSettings,
    KafkaSettings,
    PostgresSettings,
    ProviderSettings,
    RetrySettings,
)
from shared.webhooks.metrics import register_webhook_metrics
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.worker_mode import open_webhook_wait
from shared.worker.collector import settle_collector
from shared.worker.holding import (
    Holding,
    HoldingGenerator,
    HoldSettings,
    register_held_gauge,
    waiting_notice,
)
from shared.worker.patient_store import PatientVersionStore
from shared.worker.postgres_versions import PostgresVersionStore, create_pool, create_schema
from shared.worker.runtime import WorkerRuntime
from shared.worker.settings import WorkerSettings
from shared.worker.versions import VersionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Everything a worker process reads from its environment."""

    worker: WorkerSettings
    kafka: KafkaSettings
    policy: RetryPolicy
    postgres: PostgresSettings
    topics: TopicSettings

    @classmethod
    def from_env(cls, worker: WorkerSettings) -> WorkerConfig:
        return cls(
            worker=worker,
            kafka=KafkaSettings(),
            policy=RetrySettings().policy(),
            postgres=PostgresSettings(),
            topics=TopicSettings(),
        )


PRODUCER_BATCH_BYTES = 256 * 1024
"""The worker's producer batches up to this much per partition (the client's default is
16 KiB): many turns send at once, and with small batches most of a busy worker's time went
into writing and decoding produce requests (decision 0031). Well under the smallest
`max.message.bytes` of its topics (1 MiB)."""

FETCH_MAX_WAIT_MS = 100
"""How long a fetch request may wait on the broker for data. Short, so that a partition
resumed meanwhile (a retry come due) is fetched soon; an idle worker then asks ten times a
second instead of twice, which costs the broker next to nothing."""


@contextlib.asynccontextmanager
async def open_worker(
    kind: MediaKind,
    generator: Generator,
    config: WorkerConfig,
    store: VersionStore | None = None,
    holding: Holding | None = None,
) -> AsyncIterator[WorkerRuntime]:
    """A runtime for `kind` over `generator`, with its topics, store (PostgreSQL unless one is
    given), producer and consumer; everything it opened is closed on exit. Call `run()` on it.
    With `holding` (provider health), attempts are held while their model's circuit is open."""
    ns = config.kafka.topic_namespace
    await create_topics(
        config.kafka,
        [*medium_topics(kind, config.policy, ns, config.topics), events_topic(ns, config.topics)],
    )
    async with contextlib.AsyncExitStack() as stack:
        if store is None:
            # a database that is down at start is waited for, like one that goes away later
            pool = await patiently(
                lambda: create_pool(
                    config.postgres.dsn, max_size=min(16, config.worker.max_in_flight + 2)
                )
            )
            stack.push_async_callback(pool.close)
            await patiently(lambda: create_schema(pool))
            store = PatientVersionStore(PostgresVersionStore(pool))
        producer = make_producer(config.kafka, max_batch_size=PRODUCER_BATCH_BYTES)
        stack.push_async_callback(producer.stop)  # also closes a producer that failed to start
        await producer.start()
        publisher = KafkaPublisher(producer)
        held = None
        if holding is not None:
            notice = waiting_notice(publisher, topics.events(ns), f"lecturegen/{kind.value}-worker")
            generator = held = HoldingGenerator(generator, holding, notice)
        group_id = config.worker.group(kind)
        consumer = make_consumer(
            config.kafka,
            group_id,
            session_timeout_ms=config.worker.session_timeout_ms,
            max_poll_records=config.worker.max_buffered_per_partition,
            # A retry partition resumed at its head's due time is fetched in the next fetch
            # request; one already waiting on the broker for other partitions' data holds it
            # up to this long (aiokafka's default is 500 ms: retries ran up to 0.4 s late).
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        stack.push_async_callback(consumer.stop)  # `run` stops it; this covers a run never made
        runtime = WorkerRuntime(
            kind=kind,
            generator=generator,
            store=store,
            consumer=consumer,
            publisher=publisher,
            policy=config.policy,
            settings=config.worker,
            namespace=ns,
            held=held,
        )
        if held is not None:
            register_held_gauge(runtime.metrics.registry, held, kind.value)
        lag = ConsumerLag(runtime.metrics.registry, group_id)
        await stack.enter_async_context(lag.watching(lambda: consumer))
        yield runtime


@contextlib.asynccontextmanager
async def open_replicate_generator(
    spec: MediumSpec,
    provider: ProviderSettings,
    blobs: BlobSettings,
    *,
    webhooks: WebhookWait | None = None,
    budget: AccountBudget | None = None,
) -> AsyncIterator[Generator]:
    """The provider edge of a worker: Replicate (or the local compatible server at
    `provider.base_url`), storing into the configured blob store; predictions are polled
    unless `webhooks` is given; every call spends the process's share of the account's
    rate limits (`budget`, or one made from `provider`)."""
    budget = budget or AccountBudget(BudgetLimits.from_settings(provider))
    client = replicate_client(provider, budget=budget)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0)) as downloads:
            yield ReplicateGenerator(
                client,
                spec,
                open_blob_store(blobs, http=downloads),
                downloads,
                ReplicateOptions.from_settings(provider),
                webhooks=webhooks,
                budget=budget,
            )
    finally:
        await close_replicate_client(client)


async def serve(spec: MediumSpec, settings: WorkerSettings) -> None:
    """Run the worker of `spec.kind` until SIGTERM or SIGINT, then stop cleanly."""
    config = WorkerConfig.from_env(settings)
    async with contextlib.AsyncExitStack() as stack:
        provider = ProviderSettings()
        budget = AccountBudget(BudgetLimits.from_settings(provider))
        webhooks = await stack.enter_async_context(
            open_webhook_wait(WebhookSettings(), config.kafka, config.topics)
        )
        generator = await stack.enter_async_context(
            open_replicate_generator(
                spec, provider, BlobSettings(), webhooks=webhooks, budget=budget
            )
        )
        hold = HoldSettings()
        holding = None
        if hold.follow_provider_health:  # before the first record: it may start held
            board = await stack.enter_async_context(following(config.kafka, CircuitBoard()))
            holding = Holding(board, hold, spec.model_for)
        runtime = await stack.enter_async_context(
            open_worker(spec.kind, generator, config, holding=holding)
        )
        register_budget_metrics(runtime.metrics.registry, budget, spec.kind)
        if webhooks is not None:
            register_webhook_metrics(runtime.metrics.registry, webhooks, spec.kind)
        port = await stack.enter_async_context(
            running(
                runtime.metrics.registry,
                lambda: runtime.healthy,
                runtime.stop,
                host=settings.metrics_host,
                port=settings.metrics_port,
            )
        )
        settle_collector()  # everything is open: the heap from here on is the working set
        log.info(
            "worker started",
            extra={
                "medium": spec.kind.value,
                "metrics_port": port,
                "topics": runtime.topics,
                "provider_creates_per_min": budget.limits.creates_per_min,
                "provider_reads_per_min": budget.limits.reads_per_min,
            },
        )
        await runtime.run()
        log.info("worker stopped", extra={"medium": spec.kind.value})


def about(spec: MediumSpec, settings: type[WorkerSettings], prog: str) -> About:
    """What the `--help` of the worker of `spec.kind` says."""
    return About(
        prog,
        f"Generates the {spec.kind.value} assets of lecturegen: consumes their requests and "
        "retry tiers, calls the provider, stores the media and emits the outcome, until "
        "SIGTERM or SIGINT.",
        (
            settings,
            KafkaSettings,
            TopicSettings,
            RetrySettings,
            PostgresSettings,
            ProviderSettings,
            BlobSettings,
            WebhookSettings,
        ),
        name="worker",
        context={"medium": spec.kind.value},
    )


def run_worker(
    spec: MediumSpec,
    settings: type[WorkerSettings],
    *,
    prog: str,
    argv: Sequence[str] | None = None,
) -> None:
    """The whole `main()` of a media worker; exits non-zero when the worker failed."""
    run_service(
        about(spec, settings, prog),
        settings,
        lambda read: serve(spec, read),
        log_level=lambda read: read.log_level,
        argv=argv,
    )
