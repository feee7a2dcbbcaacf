"""Checksums of a generation's views, to prove two projections of the same log are equal.

Every column of every view table is covered (times come from the events, never from the
clock), so two generations that applied the same offsets must agree row for row.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.postgres import Connection, ident
from shared.read_model.tables import OFFSETS, TABLES

CHECKED_TABLES: dict[str, str] = {
    table.name: ", ".join(ident(column) for column in table.key)
    for table in TABLES
    if table is not OFFSETS
}
"""Each checked table (every one but the offsets, which differ by consumer) and the order
its rows are hashed in (its primary key)."""


@dataclass(frozen=True, slots=True)
class TableSum:
    rows: int
    md5: str


async def table_sum(conn: Connection, schema: str, table: str) -> TableSum:
    """Row count and an order-fixed md5 over the text of every row of `schema.table`."""
    order = CHECKED_TABLES[table]
    row = await conn.fetchrow(
        f"SELECT count(*) AS n, md5(coalesce(string_agg(md5(t::text), '' ORDER BY {order}), '')) "
        f"AS sum FROM {ident(schema)}.{ident(table)} AS t"
    )
    assert row is not None
    return TableSum(int(row["n"]), str(row["sum"]))


async def checksums(conn: Connection, schema: str) -> dict[str, TableSum]:
    """The `TableSum` of every checked table of a generation."""
    return {table: await table_sum(conn, schema, table) for table in CHECKED_TABLES}


async def differences(conn: Connection, schema_a: str, schema_b: str) -> list[str]:
    """One line per table whose rows differ between two generations; empty when equal."""
    a, b = await checksums(conn, schema_a), await checksums(conn, schema_b)
    return [
        f"{table}: {a[table].rows} rows ({a[table].md5[:8]}) "
        f"vs {b[table].rows} rows ({b[table].md5[:8]})"
        for table in CHECKED_TABLES
        if a[table] != b[table]
    ]
