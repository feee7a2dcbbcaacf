"""Applies a batch of log records to one generation, atomically with its offsets.

The caller owns the transaction: the live projector wraps each batch in one, a rebuild may
apply its last catch-up batch inside the transaction that verifies and switches. A record at
an offset below the stored next offset was applied before and is skipped, so redelivery
changes nothing; a record that cannot be decoded is recorded in `projector_rejected_events`
and skipped, so it never blocks the log.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import asyncpg

from shared.envelope import Envelope, decode
from shared.events import Payload, PayloadError
from shared.kafka.records import Record, header
from shared.postgres import Connection
from shared.read_model.rows import RejectedRow
from timeline_projector import store
from timeline_projector.batch_state import Writes, needs
from timeline_projector.held_rows import HeldRows
from timeline_projector.reducers import reduce
from timeline_projector.working_set import WorkingSet

log = logging.getLogger(__name__)

PREVIEW_CHARS = 1000


@dataclass(slots=True)
class BatchResult:
    """What one batch did."""

    applied: Counter[str] = field(default_factory=Counter)
    """Events taken from the log, by short type (superseded ones included)."""
    rejected: int = 0
    skipped: int = 0
    """Records at offsets applied before (redelivered)."""
    next_offsets: dict[int, int] = field(default_factory=dict)
    last_event_time: datetime | None = None

    @property
    def records(self) -> int:
        return sum(self.applied.values()) + self.rejected + self.skipped


async def apply_records(
    conn: Connection,
    schema: str,
    consumer: str,
    records: Sequence[Record],
    *,
    notify: bool = True,
    working_set: WorkingSet | None = None,
    held: HeldRows | None = None,
) -> BatchResult:
    """Apply `records` (all of one topic, each partition in offset order) to `schema`.

    Must run inside a transaction; nothing is visible before it commits. With `working_set`
    (the rows of `schema` this writer keeps), rows are read from it instead of the database;
    with `held` too, the rows later batches may change again are held back while the working
    set is complete (`held_rows`).
    """
    result = BatchResult()
    if not records:
        return result
    topic = records[0].topic
    stored = await store.lock_offsets(conn, schema, consumer, topic, {r.partition for r in records})
    fresh = [r for r in records if r.offset >= stored[r.partition]]
    result.skipped = len(records) - len(fresh)
    decoded: list[tuple[Record, Envelope]] = []
    rejected: list[RejectedRow] = []
    for record in fresh:
        try:
            decoded.append((record, decode(record.value, tuple(record.headers))))
        except (PayloadError, ValueError) as exc:
            rejected.append(_rejected(record, str(exc)))
    try:
        projected = await _project(conn, schema, decoded, working_set, held)
    except asyncpg.DataError:
        # Some event holds a value PostgreSQL cannot store (a NUL character, an out-of-range
        # number): find it by applying the batch one event at a time, and reject only it.
        projected = Projected()
        for record, envelope in decoded:
            try:
                projected.merge(
                    await _project(conn, schema, [(record, envelope)], working_set, held)
                )
            except asyncpg.DataError as exc:
                projected.rejected.append(_rejected(record, f"cannot be stored: {exc}"))
    rejected += projected.rejected
    await store.reject(conn, schema, rejected)
    result.applied = projected.applied
    result.last_event_time = projected.last_event_time
    result.rejected = len(rejected)
    for record in fresh:
        result.next_offsets[record.partition] = record.offset + 1
    await store.save_offsets(conn, schema, consumer, topic, result.next_offsets)
    if notify:
        await store.notify(conn, projected.last_seqs)
    for row in rejected:
        log.warning(
            "rejected a record of the event log",
            extra={
                "topic": row.topic,
                "partition": row.partition,
                "offset": row.offset,
                "reason": row.reason,
                "event_id": row.event_id,
            },
        )
    return result


@dataclass(slots=True)
class Projected:
    """What folding some events did: counts, rejections, the feed heads to announce."""

    applied: Counter[str] = field(default_factory=Counter)
    rejected: list[RejectedRow] = field(default_factory=list)
    last_seqs: dict[str, int] = field(default_factory=dict)
    last_event_time: datetime | None = None

    def merge(self, other: Projected) -> None:
        self.applied.update(other.applied)
        self.rejected += other.rejected
        self.last_seqs.update(other.last_seqs)
        if other.last_event_time is not None:
            self.last_event_time = max(
                self.last_event_time or other.last_event_time, other.last_event_time
            )


async def _project(
    conn: Connection,
    schema: str,
    decoded: Sequence[tuple[Record, Envelope]],
    working_set: WorkingSet | None,
    held: HeldRows | None = None,
) -> Projected:
    """Load, fold and write `decoded` inside a savepoint: all of it is written, or none."""
    done = Projected()
    envelopes = (env for _, env in decoded)
    written: Writes | None = None  # held rows written in the savepoint, to hold again if undone
    try:
        async with conn.transaction():
            holding = False
            if working_set is None:
                state = await store.load_state(conn, schema, needs(envelopes))
            else:
                if held and not working_set.complete:
                    written = await held.write(conn, schema)  # before rows are loaded
                holding = held is not None and working_set.complete
                state = await working_set.state(conn, schema, envelopes)
            for record, envelope in decoded:
                try:
                    changes = reduce(state, envelope)
                except Exception as exc:  # a reducer bug must not block the log: record, go on
                    log.exception("reducer failed", extra={"event_id": envelope.id})
                    done.rejected.append(_rejected(record, f"reducer failed: {exc!r}"))
                    continue
                state.apply(changes)
                done.applied[_short_type(type(envelope.payload))] += 1
                if done.last_event_time is None or envelope.time > done.last_event_time:
                    done.last_event_time = envelope.time
            writes = state.writes
            await store.write(conn, schema, HeldRows.written_now(writes) if holding else writes)
    except BaseException:
        if held is not None and written is not None:
            held.put_back(written)
        raise
    if working_set is not None:
        working_set.keep(writes)
    if held is not None and holding:
        held.hold(writes)
    done.last_seqs = dict(writes.last_seqs)
    return done


@cache
def _short_type(payload_type: type[Payload]) -> str:
    return payload_type.short_type()


def _rejected(record: Record, reason: str) -> RejectedRow:
    headers = tuple(record.headers)
    value = record.value
    return RejectedRow(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=_text(reason) or "",
        event_type=_text(header(headers, "ce_type")),
        event_id=_text(header(headers, "ce_id")),
        record_key=None if record.key is None else _text(record.key.decode("utf-8", "replace")),
        value_preview=None
        if value is None
        else _text(value[:PREVIEW_CHARS].decode("utf-8", "replace")),
        record_time=datetime.fromtimestamp(record.timestamp_ms / 1000, UTC),
    )


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters."""
    return None if value is None else value.replace("\x00", "\ufffd")
