"""`lecturegen dlt show`: what the dead-letter topics hold, read without a consumer group (so
reading commits nothing and changes nothing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from lecturegen_cli.ops.lag import partition_ids
from shared import headers, topics
from shared.media import MediaKind
from shared.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a dead-letter topic, as far as an operator needs it."""

    kind: str
    partition: int
    offset: int
    time: str
    reason: str | None
    """`poison` (undecodable), `exhausted` (retries ran out) or `failed` (permanent error)."""
    error_code: str | None
    error_message: str | None
    asset_id: str | None
    lecture_id: str | None
    prompt_version: int | None
    original: str | None
    """Where the request first entered: `topic:partition:offset`."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def describe(
    kind: MediaKind,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    record_headers: Iterable[tuple[str, bytes | None]],
) -> DeadLetter:
    """A dead letter from one Kafka record. Pure: tolerates any value, since poison records
    are in the topic precisely because they could not be read."""
    named = {name: raw.decode(errors="replace") for name, raw in record_headers if raw}
    body = _json_object(value)
    topic, partition_of, offset_of = (named.get(h) for h in _ORIGIN)
    version = body.get("prompt_version")
    return DeadLetter(
        kind=kind.value,
        partition=partition,
        offset=offset,
        time=datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="seconds"),
        reason=named.get(headers.DLT_REASON),
        error_code=named.get(headers.ERROR_CODE),
        error_message=named.get(headers.ERROR_MESSAGE),
        asset_id=_text(body.get("asset_id")) or (key.decode(errors="replace") if key else None),
        lecture_id=_text(body.get("lecture_id")),
        prompt_version=version if isinstance(version, int) else None,
        original=f"{topic}:{partition_of}:{offset_of}" if topic and partition_of else None,
    )


_ORIGIN = (headers.ORIGINAL_TOPIC, headers.ORIGINAL_PARTITION, headers.ORIGINAL_OFFSET)


def _json_object(value: bytes | None) -> dict[str, Any]:
    try:
        body = json.loads(value or b"")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def read_dead_letters(
    kafka: KafkaSettings, kinds: Sequence[MediaKind], limit: int, timeout_s: float = 15.0
) -> list[DeadLetter]:
    """The last `limit` records of each partition of each kind's dead-letter topic, oldest
    first."""
    names = {topics.dead_letter(kind, kafka.topic_namespace): kind for kind in kinds}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers, client_id="lecturegen-dlt"
    )
    try:
        await admin.start()
        ids = await partition_ids(admin, list(names))
    finally:
        await admin.close()
    partitions = [TopicPartition(t, p) for t, ps in ids.items() for p in ps]
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id="lecturegen-dlt",
        group_id=None,
        enable_auto_commit=False,
    )
    letters: list[DeadLetter] = []
    try:
        await consumer.start()
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(starts[tp], ends[tp] - limit))
        async with asyncio.timeout(timeout_s):
            while pending := [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(*pending, timeout_ms=500)
                letters += [
                    describe(
                        names[tp.topic],
                        tp.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value,
                        r.headers,
                    )
                    for tp, records in batch.items()
                    for r in records
                    if r.offset < ends[tp]
                ]
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda d: (d.time, d.kind, d.partition, d.offset))


def dead_letter_lines(letters: Sequence[DeadLetter]) -> list[str]:
    """Each dead letter as a short block of lines (rich markup)."""
    lines: list[str] = []
    for d in letters:
        version = "" if d.prompt_version is None else f" v{d.prompt_version}"
        lines += [
            f"[bold]{d.kind}[/] [red]{d.reason or 'unknown reason'}[/] "
            f"{d.error_code or ''}  {d.time}",
            f"  asset {d.asset_id or '?'}{version} · lecture {d.lecture_id or '?'}",
            f"  from {d.original or '?'} · dead letter {d.partition}:{d.offset}",
        ]
        if d.error_message:
            lines.append(f"  {d.error_message[:300]}")
    return lines
