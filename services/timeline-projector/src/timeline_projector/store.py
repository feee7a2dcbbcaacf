"""The SQL layer: loads the rows a batch needs and writes what the reducers returned.

Every statement works on whole batches, so a batch costs a fixed number of round trips however
many events it holds. Small writes send each column as an array (`unnest`); larger ones are
streamed with binary `COPY` (far cheaper to encode), into the table itself for the append-only
feed and into a temporary staging table, merged with `ON CONFLICT` in one statement, for the
tables whose rows are replaced. Table and column names match `rows` one to one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import asyncpg
from pydantic_core import PydanticSerializationError, to_json

from timeline_projector.batch_state import BatchState, Needs, Rows, Writes
from timeline_projector.rows import (
    AssetRow,
    AttemptRow,
    FeedRow,
    LectureRow,
    RejectedRow,
    SegmentRow,
)
from timeline_projector.sql import EVENTS_CHANNEL, Connection, ident


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the projection: its columns (name, PostgreSQL type) and primary key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    row_type: Any
    """The named tuple of a row (`rows`): its fields are the columns, in order."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


def _columns(spec: str) -> tuple[tuple[str, str], ...]:
    pairs = (item.strip().split(" ", 1) for item in spec.split(","))
    return tuple((name, pg_type) for name, pg_type in pairs)


LECTURES = Table(
    "lectures",
    _columns(
        "lecture_id text, title text, duration_s float8, created_event_id text, "
        "created_at timestamptz, updated_at timestamptz"
    ),
    ("lecture_id",),
    LectureRow,
)
SEGMENTS = Table(
    "segments",
    _columns(
        "lecture_id text, segment_id text, position int4, title text, start_s float8, "
        "duration_s float8"
    ),
    ("lecture_id", "segment_id"),
    SegmentRow,
)
ASSETS = Table(
    "assets",
    _columns(
        "asset_id text, lecture_id text, segment_id text, kind text, position int4, status text, "
        "error jsonb, prompt text, model text, params jsonb, prompt_version int4, "
        "requested_duration_s float8, media_blob_key text, media_content_type text, "
        "media_size_bytes int8, duration_s float8, retried_count int4, attempts int4, "
        "provider text, prediction_id text, created_at timestamptz, updated_at timestamptz, "
        "last_event_id text"
    ),
    ("asset_id",),
    AssetRow,
)
ATTEMPTS = Table(
    "asset_attempts",
    _columns(
        "asset_id text, prompt_version int4, attempt int4, lecture_id text, "
        "started_at timestamptz, finished_at timestamptz, outcome text, error jsonb, "
        "prediction_id text, event_id text, superseded bool"
    ),
    ("asset_id", "prompt_version", "attempt"),
    AttemptRow,
)
FEED = Table(
    "lecture_event_feed",
    _columns(
        "lecture_id text, seq int8, event_id text, event_type text, asset_id text, "
        "prompt_version int4, applied bool, data jsonb, created_at timestamptz"
    ),
    ("lecture_id", "seq"),
    FeedRow,
)
REJECTED = Table(
    "projector_rejected_events",
    _columns(
        "topic text, partition int4, offset int8, reason text, event_type text, event_id text, "
        "record_key text, value_preview text, record_time timestamptz"
    ),
    ("topic", "partition", "offset"),
    RejectedRow,
)


TABLES = (LECTURES, SEGMENTS, ASSETS, ATTEMPTS, FEED, REJECTED)
"""Every table rows are written to; each row type's fields are its table's columns, in order
(rows are written and read as tuples)."""

COPY_FROM_ROWS = 32
"""Writes of at least this many rows to a table go through `COPY`; smaller ones through
`unnest`, which needs fewer round trips."""


@cache
def _insert_sql(schema: str, table: Table, on_conflict: str) -> str:
    cols = ", ".join(ident(name) for name in table.names)
    arrays = ", ".join(
        f"${i}::{'text' if pg_type == 'jsonb' else pg_type}[]"
        for i, (_, pg_type) in enumerate(table.columns, start=1)
    )
    values = ", ".join(
        f"u.{ident(name)}::jsonb" if pg_type == "jsonb" else f"u.{ident(name)}"
        for name, pg_type in table.columns
    )
    return (
        f"INSERT INTO {ident(schema)}.{ident(table.name)} ({cols}) "
        f"SELECT {values} FROM unnest({arrays}) AS u({cols}) {on_conflict}"
    )


@cache
def _on_conflict_update(table: Table) -> str:
    updates = ", ".join(
        f"{ident(name)} = EXCLUDED.{ident(name)}" for name in table.names if name not in table.key
    )
    key = ", ".join(ident(name) for name in table.key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}"


@cache
def _upsert_sql(schema: str, table: Table) -> str:
    return _insert_sql(schema, table, _on_conflict_update(table))


@cache
def _stage_name(schema: str, table: Table) -> str:
    """The temporary table (of this session) that larger upserts into `schema.table` go
    through; emptied at every commit."""
    return f"stage_{schema}_{table.name}"


@cache
def _create_stage_sql(schema: str, table: Table) -> str:
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {ident(_stage_name(schema, table))} "
        f"(LIKE {ident(schema)}.{ident(table.name)}) ON COMMIT DELETE ROWS"
    )


@cache
def _merge_sql(schema: str, table: Table) -> str:
    """Move the staged rows into the table (a later batch of the same transaction finds the
    stage empty again)."""
    cols = ", ".join(ident(name) for name in table.names)
    return (
        f"WITH staged AS (DELETE FROM {ident(_stage_name(schema, table))} RETURNING *) "
        f"INSERT INTO {ident(schema)}.{ident(table.name)} ({cols}) SELECT {cols} FROM staged "
        f"{_on_conflict_update(table)}"
    )


@cache
def _json_positions(table: Table) -> tuple[int, ...]:
    return tuple(i for i, (_, pg_type) in enumerate(table.columns) if pg_type == "jsonb")


def _json(value: Any) -> str:
    """`value` as JSON text, as PostgreSQL reads it into `jsonb` (the same value `json.dumps`
    gives, written faster; numbers may be spelled differently, e.g. `1e-7` for `1e-07`, which
    `jsonb` stores identically). `json.dumps` still writes what the fast encoder cannot, such
    as lone surrogates, for PostgreSQL to reject as before."""
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except PydanticSerializationError:
        return json.dumps(value)


def _records(table: Table, rows: Iterable[Any]) -> list[tuple[Any, ...]]:
    """The rows as tuples of column values, JSON columns as JSON text (a row is a named tuple
    of its columns, in order)."""
    positions = _json_positions(table)
    if not positions:
        return list(rows)
    records = []
    for row in rows:
        record = list(row)
        for i in positions:
            if record[i] is not None:
                record[i] = _json(record[i])
        records.append(tuple(record))
    return records


def _arrays(table: Table, rows: Iterable[Any]) -> list[list[Any]]:
    """The rows as one list per column, JSON columns as JSON text."""
    records = _records(table, rows)
    return [list(column) for column in zip(*records, strict=True)] if records else []


def _row(table: Table, record: asyncpg.Record) -> Any:
    """A row from a record that selected every column of `table`, in order."""
    positions = _json_positions(table)
    if not positions:
        return table.row_type._make(record)
    values = list(record)
    for i in positions:
        if isinstance(values[i], str):
            values[i] = json.loads(values[i])
    return table.row_type._make(values)


async def _copy(
    conn: Connection, schema: str | None, name: str, table: Table, rows: Iterable[Any]
) -> None:
    """Stream `rows` into `schema.name` (columns of `table`) with binary `COPY`."""
    records = _records(table, rows)
    try:
        await conn.copy_records_to_table(
            name, schema_name=schema, records=records, columns=list(table.names)
        )
    except (OverflowError, TypeError, ValueError) as exc:
        # A value the binary encoding cannot carry (an integer out of range …): as `unnest`
        # would, report it as data PostgreSQL cannot store, so the batch's event is rejected.
        raise asyncpg.DataError(f"invalid input for {table.name}: {exc}") from exc


async def _upsert(
    conn: Connection, schema: str, table: Table, rows: Collection[Any], copy_from: int
) -> None:
    if not rows:
        return
    if len(rows) < copy_from:
        await conn.execute(_upsert_sql(schema, table), *_arrays(table, rows))
        return
    await conn.execute(_create_stage_sql(schema, table))
    await _copy(conn, None, _stage_name(schema, table), table, rows)
    await conn.execute(_merge_sql(schema, table))


async def _append(
    conn: Connection, schema: str, table: Table, rows: Collection[Any], copy_from: int
) -> None:
    if not rows:
        return
    if len(rows) < copy_from:
        await conn.execute(_insert_sql(schema, table, ""), *_arrays(table, rows))
    else:
        await _copy(conn, schema, table.name, table, rows)


async def _select(conn: Connection, schema: str, table: Table, where: str, *args: Any) -> list[Any]:
    cols = ", ".join(f"t.{ident(name)}" for name in table.names)
    records = await conn.fetch(
        f"SELECT {cols} FROM {ident(schema)}.{ident(table.name)} AS t {where}", *args
    )
    return [_row(table, record) for record in records]


async def select_all(conn: Connection, schema: str, table: Table) -> list[Any]:
    """Every row of `table` in `schema`, as row values (for checks and tests)."""
    order = ", ".join(f"t.{ident(name)}" for name in table.key)
    return await _select(conn, schema, table, f"ORDER BY {order}")


# --- a batch's working set --------------------------------------------------------------


async def load_state(conn: Connection, schema: str, wanted: Needs) -> BatchState:
    """The stored rows the batch's events may read, as a fresh `BatchState`."""
    return BatchState(base=await load_rows(conn, schema, wanted))


async def load_rows(conn: Connection, schema: str, wanted: Needs) -> Rows:
    """The stored rows with the keys in `wanted` (those that exist)."""
    s = ident(schema)
    lectures = await _select(
        conn, schema, LECTURES, "WHERE t.lecture_id = ANY($1::text[])", list(wanted.lecture_ids)
    )
    assets = await _select(
        conn, schema, ASSETS, "WHERE t.asset_id = ANY($1::text[])", list(wanted.asset_ids)
    )
    keys = sorted(wanted.attempt_keys)
    attempts = await _select(
        conn,
        schema,
        ATTEMPTS,
        "JOIN unnest($1::text[], $2::int4[], $3::int4[]) AS k(a, v, n) "
        "ON t.asset_id = k.a AND t.prompt_version = k.v AND t.attempt = k.n",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    counters = await conn.fetch(
        f"SELECT lecture_id, last_seq FROM {s}.lecture_feed_counters "
        "WHERE lecture_id = ANY($1::text[])",
        list(wanted.lecture_ids),
    )
    seen = await conn.fetch(
        f"SELECT event_id FROM {s}.lecture_event_feed WHERE event_id = ANY($1::text[])",
        list(wanted.event_ids),
    )
    return Rows(
        lectures={row.lecture_id: row for row in lectures},
        assets={row.asset_id: row for row in assets},
        attempts={row.key: row for row in attempts},
        last_seqs={row["lecture_id"]: row["last_seq"] for row in counters},
        seen={row["event_id"] for row in seen},
    )


async def write(
    conn: Connection, schema: str, writes: Writes, *, copy_from: int = COPY_FROM_ROWS
) -> None:
    """Write the final rows of a batch, append its feed rows and move the feed counters.

    Tables with at least `copy_from` rows to write get them through `COPY`."""
    await _upsert(conn, schema, LECTURES, writes.lectures.values(), copy_from)
    await _upsert(conn, schema, SEGMENTS, writes.segments.values(), copy_from)
    await _upsert(conn, schema, ASSETS, writes.assets.values(), copy_from)
    await _upsert(conn, schema, ATTEMPTS, writes.attempts.values(), copy_from)
    await _append(conn, schema, FEED, writes.feed, copy_from)
    if writes.last_seqs:
        await conn.execute(
            f"INSERT INTO {ident(schema)}.lecture_feed_counters (lecture_id, last_seq) "
            "SELECT * FROM unnest($1::text[], $2::int8[]) "
            "ON CONFLICT (lecture_id) DO UPDATE SET last_seq = EXCLUDED.last_seq",
            list(writes.last_seqs),
            list(writes.last_seqs.values()),
        )


async def notify(conn: Connection, last_seqs: dict[str, int]) -> None:
    """One `lecturegen_events` notification per lecture, `<lecture_id>:<seq>`, sent at commit."""
    if last_seqs:
        await conn.execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
            EVENTS_CHANNEL,
            [f"{lecture_id}:{seq}" for lecture_id, seq in last_seqs.items()],
        )


async def reject(conn: Connection, schema: str, rows: Sequence[RejectedRow]) -> None:
    """Record undecodable records (a redelivered one is recorded once)."""
    if rows:
        await conn.execute(
            _insert_sql(schema, REJECTED, "ON CONFLICT DO NOTHING"), *_arrays(REJECTED, rows)
        )


# --- offsets ------------------------------------------------------------------------------


async def lock_offsets(
    conn: Connection, schema: str, consumer: str, topic: str, partitions: Iterable[int]
) -> dict[int, int]:
    """The next offset to apply for each partition, with its row locked until commit, so two
    projectors that briefly own the same partition (a rebalance) apply each record once."""
    wanted = sorted(set(partitions))
    s = ident(schema)
    await conn.execute(
        f"INSERT INTO {s}.projector_offsets (consumer, topic, partition, next_offset) "
        "SELECT $1, $2, p, 0 FROM unnest($3::int4[]) AS p ON CONFLICT DO NOTHING",
        consumer,
        topic,
        wanted,
    )
    rows = await conn.fetch(
        f"SELECT partition, next_offset FROM {s}.projector_offsets "
        "WHERE consumer = $1 AND topic = $2 AND partition = ANY($3::int4[]) "
        "ORDER BY partition FOR UPDATE",
        consumer,
        topic,
        wanted,
    )
    return {row["partition"]: row["next_offset"] for row in rows}


async def save_offsets(
    conn: Connection, schema: str, consumer: str, topic: str, offsets: dict[int, int]
) -> None:
    if offsets:
        await conn.execute(
            f"UPDATE {ident(schema)}.projector_offsets AS o "
            "SET next_offset = u.next_offset, updated_at = now() "
            "FROM unnest($3::int4[], $4::int8[]) AS u(partition, next_offset) "
            "WHERE o.consumer = $1 AND o.topic = $2 AND o.partition = u.partition",
            consumer,
            topic,
            list(offsets),
            list(offsets.values()),
        )


async def stored_offsets(
    conn: Connection, schema: str, consumer: str, topic: str
) -> dict[int, int]:
    """Every stored next offset of `consumer` on `topic`, by partition (no lock)."""
    rows = await conn.fetch(
        f"SELECT partition, next_offset FROM {ident(schema)}.projector_offsets "
        "WHERE consumer = $1 AND topic = $2",
        consumer,
        topic,
    )
    return {row["partition"]: row["next_offset"] for row in rows}
