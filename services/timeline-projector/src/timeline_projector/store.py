"""The SQL layer: loads the rows a batch needs and writes what the reducers returned.

Every statement works on whole batches, so a batch costs a fixed number of round trips however
many events it holds. Small writes send each column as an array (`unnest`); larger ones are
streamed with binary `COPY` (far cheaper to encode), into the table itself for the append-only
feed and into a temporary staging table, merged with `ON CONFLICT` in one statement, for the
tables whose rows are replaced. Tables, columns and rows are the read model's
(`shared.read_model`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

import asyncpg
from pydantic_core import PydanticSerializationError, to_json

from shared.postgres import Connection, ident
from shared.read_model.notify import EVENTS_CHANNEL, FeedNotice
from shared.read_model.rows import FeedCounterRow, RejectedRow
from shared.read_model.tables import (
    ASSETS,
    ATTEMPTS,
    FEED,
    FEED_COUNTERS,
    LECTURES,
    OFFSETS,
    REJECTED,
    SEGMENTS,
    Table,
)
from timeline_projector.batch_state import BatchState, Needs, Rows, Writes

R = TypeVar("R", bound=tuple[Any, ...])

COPY_FROM_ROWS = 32
"""Writes of at least this many rows to a table go through `COPY`; smaller ones through
`unnest`, which needs fewer round trips."""


@cache
def _insert_sql(schema: str, table: Table[Any], on_conflict: str) -> str:
    cols = ", ".join(ident(name) for name in table.names)
    arrays = ", ".join(
        f"${i}::{'text' if column.pg_type == 'jsonb' else column.pg_type}[]"
        for i, column in enumerate(table.columns, start=1)
    )
    values = ", ".join(
        f"u.{ident(c.name)}::jsonb" if c.pg_type == "jsonb" else f"u.{ident(c.name)}"
        for c in table.columns
    )
    return (
        f"INSERT INTO {table.qualified(schema)} ({cols}) "
        f"SELECT {values} FROM unnest({arrays}) AS u({cols}) {on_conflict}"
    )


@cache
def _on_conflict_update(table: Table[Any]) -> str:
    updates = ", ".join(
        f"{ident(name)} = EXCLUDED.{ident(name)}" for name in table.names if name not in table.key
    )
    key = ", ".join(ident(name) for name in table.key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}"


@cache
def _upsert_sql(schema: str, table: Table[Any]) -> str:
    return _insert_sql(schema, table, _on_conflict_update(table))


@cache
def _stage_name(schema: str, table: Table[Any]) -> str:
    """The temporary table (of this session) that larger upserts into `schema.table` go
    through; emptied at every commit."""
    return f"stage_{schema}_{table.name}"


@cache
def _create_stage_sql(schema: str, table: Table[Any]) -> str:
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {ident(_stage_name(schema, table))} "
        f"(LIKE {table.qualified(schema)}) ON COMMIT DELETE ROWS"
    )


@cache
def _merge_sql(schema: str, table: Table[Any]) -> str:
    """Move the staged rows into the table (a later batch of the same transaction finds the
    stage empty again)."""
    cols = ", ".join(ident(name) for name in table.names)
    return (
        f"WITH staged AS (DELETE FROM {ident(_stage_name(schema, table))} RETURNING *) "
        f"INSERT INTO {table.qualified(schema)} ({cols}) SELECT {cols} FROM staged "
        f"{_on_conflict_update(table)}"
    )


def _json(value: Any) -> str:
    """`value` as JSON text, as PostgreSQL reads it into `jsonb` (the same value `json.dumps`
    gives, written faster; numbers may be spelled differently, e.g. `1e-7` for `1e-07`, which
    `jsonb` stores identically). `json.dumps` still writes what the fast encoder cannot, such
    as lone surrogates, for PostgreSQL to reject as before."""
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except PydanticSerializationError:
        return json.dumps(value)


def _records(table: Table[Any], rows: Iterable[Any]) -> list[tuple[Any, ...]]:
    """The rows as tuples of column values, JSON columns as JSON text (a row is a named tuple
    of its columns, in order)."""
    positions = table.json_positions
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


def _arrays(table: Table[Any], rows: Iterable[Any]) -> list[list[Any]]:
    """The rows as one list per column, JSON columns as JSON text."""
    records = _records(table, rows)
    return [list(column) for column in zip(*records, strict=True)] if records else []


async def _copy(
    conn: Connection, schema: str | None, name: str, table: Table[Any], rows: Iterable[Any]
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
    conn: Connection, schema: str, table: Table[Any], rows: Collection[Any], copy_from: int
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
    conn: Connection, schema: str, table: Table[Any], rows: Collection[Any], copy_from: int
) -> None:
    if not rows:
        return
    if len(rows) < copy_from:
        await conn.execute(_insert_sql(schema, table, ""), *_arrays(table, rows))
    else:
        await _copy(conn, schema, table.name, table, rows)


async def _select(
    conn: Connection, schema: str, table: Table[R], where: str, *args: Any
) -> list[R]:
    records = await conn.fetch(
        f"SELECT {table.select_list('t')} FROM {table.qualified(schema)} AS t {where}", *args
    )
    return [table.row(record) for record in records]


async def select_all(conn: Connection, schema: str, table: Table[R]) -> list[R]:
    """Every row of `table` in `schema`, as row values (for checks and tests)."""
    order = ", ".join(f"t.{ident(name)}" for name in table.key)
    return await _select(conn, schema, table, f"ORDER BY {order}")


# --- a batch's working set --------------------------------------------------------------


async def load_state(conn: Connection, schema: str, wanted: Needs) -> BatchState:
    """The stored rows the batch's events may read, as a fresh `BatchState`."""
    return BatchState(base=await load_rows(conn, schema, wanted))


async def load_rows(conn: Connection, schema: str, wanted: Needs) -> Rows:
    """The stored rows with the keys in `wanted` (those that exist)."""
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
        f"SELECT lecture_id, last_seq FROM {FEED_COUNTERS.qualified(schema)} "
        "WHERE lecture_id = ANY($1::text[])",
        list(wanted.lecture_ids),
    )
    seen = await conn.fetch(
        f"SELECT event_id FROM {FEED.qualified(schema)} WHERE event_id = ANY($1::text[])",
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
            f"INSERT INTO {FEED_COUNTERS.qualified(schema)} (lecture_id, last_seq) "
            "SELECT * FROM unnest($1::text[], $2::int8[]) "
            "ON CONFLICT (lecture_id) DO UPDATE SET last_seq = EXCLUDED.last_seq",
            list(writes.last_seqs),
            list(writes.last_seqs.values()),
        )


async def insert_new(
    conn: Connection, schema: str, writes: Writes, *, copy_from: int = COPY_FROM_ROWS
) -> None:
    """Write rows known not to be stored yet (a rebuild's rows held back, `held_rows`): each
    table's rows are appended as they are, without merging over stored ones, several times
    cheaper for PostgreSQL. A row that is stored after all fails its table's key."""
    await _append(conn, schema, LECTURES, writes.lectures.values(), copy_from)
    await _append(conn, schema, SEGMENTS, writes.segments.values(), copy_from)
    await _append(conn, schema, ASSETS, writes.assets.values(), copy_from)
    await _append(conn, schema, ATTEMPTS, writes.attempts.values(), copy_from)
    await _append(conn, schema, FEED, writes.feed, copy_from)
    await _append(
        conn,
        schema,
        FEED_COUNTERS,
        [FeedCounterRow(lecture_id, seq) for lecture_id, seq in writes.last_seqs.items()],
        copy_from,
    )


async def notify(conn: Connection, last_seqs: dict[str, int]) -> None:
    """One `EVENTS_CHANNEL` notification per lecture (`FeedNotice`), sent at commit."""
    if last_seqs:
        await conn.execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
            EVENTS_CHANNEL,
            [FeedNotice(lecture_id, seq).payload() for lecture_id, seq in last_seqs.items()],
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
    await conn.execute(
        f"INSERT INTO {OFFSETS.qualified(schema)} (consumer, topic, partition, next_offset) "
        "SELECT $1, $2, p, 0 FROM unnest($3::int4[]) AS p ON CONFLICT DO NOTHING",
        consumer,
        topic,
        wanted,
    )
    rows = await conn.fetch(
        f"SELECT partition, next_offset FROM {OFFSETS.qualified(schema)} "
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
            f"UPDATE {OFFSETS.qualified(schema)} AS o "
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
        f"SELECT partition, next_offset FROM {OFFSETS.qualified(schema)} "
        "WHERE consumer = $1 AND topic = $2",
        consumer,
        topic,
    )
    return {row["partition"]: row["next_offset"] for row in rows}
