"""Kafka clients and topics, configured the one way lecturegen uses them.

Producers are idempotent with `acks="all"`: a send counts only once every in-sync replica has
it, and a retried send never duplicates a record. Consumers never auto-commit: each service
commits the offsets it has finished, itself. `ensure_topics` creates what is missing and leaves
existing topics alone, so every service may call it at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import topics
from shared.media import MediaKind
from shared.retry import RetryPolicy
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

EVENTS_MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""The largest record the event log takes (its topic's `max.message.bytes`): enough for a
lecture at every documented limit (docs/decisions/0012-event-size.md)."""

_TOPIC_ALREADY_EXISTS = 36
"""Kafka's TOPIC_ALREADY_EXISTS error code: what `ensure_topics` expects for existing topics."""

LEADER_WAIT_S = 30.0
"""How long `ensure_topics` waits for the partitions of the topics it made to get leaders."""


class TopicSettings(BaseSettings):
    """How many partitions each kind of topic is created with (existing topics stay as they are)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    request_partitions: int = Field(
        8, ge=1, validation_alias=AliasChoices("LECTUREGEN_TOPIC_REQUEST_PARTITIONS")
    )
    tier_partitions: int = Field(
        4, ge=1, validation_alias=AliasChoices("LECTUREGEN_TOPIC_TIER_PARTITIONS")
    )
    dead_letter_partitions: int = Field(
        1, ge=1, validation_alias=AliasChoices("LECTUREGEN_TOPIC_DLT_PARTITIONS")
    )
    events_partitions: int = Field(
        8, ge=1, validation_alias=AliasChoices("LECTUREGEN_TOPIC_EVENTS_PARTITIONS")
    )
    replication_factor: int = Field(
        1, ge=1, validation_alias=AliasChoices("LECTUREGEN_TOPIC_REPLICATION_FACTOR")
    )


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as `ensure_topics` creates it when it is missing."""

    name: str
    partitions: int
    replication_factor: int = 1
    config: dict[str, str] = field(default_factory=dict)


def events_topic(namespace: str, settings: TopicSettings) -> TopicSpec:
    """The event log: kept forever (DESIGN §5)."""
    return TopicSpec(
        topics.events(namespace),
        settings.events_partitions,
        settings.replication_factor,
        {
            "retention.ms": "-1",
            "retention.bytes": "-1",
            "max.message.bytes": str(EVENTS_MAX_MESSAGE_BYTES),
        },
    )


def medium_topics(
    kind: MediaKind, policy: RetryPolicy, namespace: str, settings: TopicSettings
) -> list[TopicSpec]:
    """A medium's request topic, one topic per retry tier of `policy`, and its dead-letter topic."""
    rf = settings.replication_factor
    specs = [TopicSpec(topics.requests(kind, namespace), settings.request_partitions, rf)]
    specs += [
        TopicSpec(topics.retry_tier(kind, tier, namespace), settings.tier_partitions, rf)
        for tier in policy.tiers_ms
    ]
    specs.append(
        TopicSpec(
            topics.dead_letter(kind, namespace),
            settings.dead_letter_partitions,
            rf,
            {"retention.ms": "-1"},
        )
    )
    return specs


def provider_predictions_topic(namespace: str, settings: TopicSettings) -> TopicSpec:
    """Webhook completions: read within minutes of being written, kept for a day."""
    return TopicSpec(
        topics.provider_predictions(namespace),
        settings.events_partitions,
        settings.replication_factor,
        {"retention.ms": str(24 * 3600 * 1000)},
    )


def provider_health_topic(namespace: str, settings: TopicSettings) -> TopicSpec:
    """Circuit states: compacted, so a reader from the start sees each circuit's last state."""
    return TopicSpec(
        topics.provider_health(namespace),
        1,
        settings.replication_factor,
        {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
    )


async def ensure_topics(admin: AIOKafkaAdminClient, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics of `specs` that do not exist yet and wait until every partition of
    them has a leader (so that no client of this process meets `NotLeaderForPartitionError`
    on a topic it just made); return the names it created.

    Idempotent: an existing topic is left as it is, even when its partition count differs.
    """
    wanted = {spec.name: spec for spec in specs}
    if not wanted:
        return []
    existing = set(await admin.list_topics())
    missing = [spec for name, spec in wanted.items() if name not in existing]
    if not missing:
        return []
    response = await admin.create_topics(
        [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=dict(s.config))
            for s in missing
        ]
    )
    created: list[str] = []
    for name, code, *rest in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:  # another service created it meanwhile: fine
            message = rest[0] if rest else ""
            raise RuntimeError(f"cannot create topic {name!r}: error {code} {message}")
    if created:
        log.info("created topics", extra={"topics": created})
        await _until_led(admin, created, LEADER_WAIT_S)
    return created


async def max_message_bytes(kafka: KafkaSettings, topic: str, *, timeout_s: float = 30) -> int:
    """The largest record batch `topic` accepts now: its `max.message.bytes`, whoever set it
    (a topic created before the limit was raised keeps its old one). A topic created a moment
    ago may not be described yet by every broker: ask again until `timeout_s`."""
    admin = make_admin(kafka)
    try:
        await admin.start()
        async with asyncio.timeout(timeout_s):
            while True:
                [response] = await admin.describe_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, topic)]
                )
                for error, message, _type, _name, entries in response.resources:
                    for name, value, *_ in entries:
                        if name == "max.message.bytes":
                            return int(value)
                    log.debug("topic %s not described yet: %s %s", topic, error, message)
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


def make_admin(kafka: KafkaSettings) -> AIOKafkaAdminClient:
    """An admin client; the caller starts and closes it."""
    return AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers, client_id=f"{kafka.client_id}-admin"
    )


def make_producer(kafka: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica; the caller starts it."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_consumer(
    kafka: KafkaSettings, group_id: str, topic_names: Sequence[str] = (), **overrides: Any
) -> AIOKafkaConsumer:
    """A group consumer without auto-commit that starts from the earliest offset when the
    group has none; subscribe it (or pass `topic_names`) and start it."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topic_names, **options)


def make_reader(kafka: KafkaSettings, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer outside any group (it commits nothing) that starts at the end: subscribe it
    (it gets every partition) or assign it partitions, and start it."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "latest",
        "metadata_max_age_ms": 5000,
    }
    options.update(overrides)
    return AIOKafkaConsumer(**options)


async def create_topics(kafka: KafkaSettings, specs: Iterable[TopicSpec]) -> list[str]:
    """`ensure_topics` with a short-lived admin client of its own."""
    admin = make_admin(kafka)
    try:
        await admin.start()
        return await ensure_topics(admin, specs)
    finally:
        await admin.close()


async def wait_for_leaders(
    kafka: KafkaSettings, names: Iterable[str], timeout_s: float = 30.0
) -> None:
    """Return once every partition of the topics `names` has a leader that acts as one (a
    topic just created has none for a moment: a client that sends at once meets
    `NotLeaderForPartitionError`).

    The metadata names a partition's leader before that broker has taken the partition up,
    so each leader is then asked for the partition's end offset, which it answers only once
    it leads. Raises `TimeoutError` when some partition still has none after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    admin = make_admin(kafka)
    try:
        await admin.start()
        described = await _until_led(admin, names, timeout_s)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, client_id=f"{kafka.client_id}-leaders"
    )
    try:
        await consumer.start()
        async with asyncio.timeout(max(0.0, deadline - asyncio.get_running_loop().time())):
            await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def _until_led(
    admin: AIOKafkaAdminClient, names: Iterable[str], timeout_s: float
) -> list[dict[str, Any]]:
    """The topics `names` as described once the metadata names a leader for each partition."""
    wanted = sorted(set(names))
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(wanted)
        if all(_has_leaders(topic) for topic in described):
            return described
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no leader for some partition of {wanted} after {timeout_s} s")
        await asyncio.sleep(0.05)


def _has_leaders(topic: dict[str, Any]) -> bool:
    partitions = topic.get("partitions") or []
    return (
        topic.get("error_code", 0) == 0
        and bool(partitions)
        and all(p.get("error_code", 0) == 0 and p.get("leader", -1) >= 0 for p in partitions)
    )
