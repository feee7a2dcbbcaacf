"""The tables of the read model: names, columns and keys, derived from the row types.

The projector writes every table into each projection generation's schema
(`lecturegen_g<N>`); readers read them only as the views of `READ_SCHEMA` (same names, same
columns), which point at the current generation. A table's columns are its row type's
fields, in order, with the PostgreSQL type each field's annotation maps to (`pg_type`), so
adding a column is one field here plus the projector's migration that adds it; a test
compares these definitions with the migrated database.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from shared.postgres import ident
from shared.read_model.rows import (
    AssetRow,
    AttemptRow,
    FeedCounterRow,
    FeedRow,
    LectureRow,
    OffsetRow,
    RejectedRow,
    SegmentRow,
)

READ_SCHEMA = "lecturegen_read"
"""The schema of the views readers use; never read a generation schema directly."""

R = TypeVar("R", bound=tuple[Any, ...])

_PG_TYPES: dict[Any, str] = {
    str: "text",
    int: "int4",
    float: "float8",
    bool: "bool",
    datetime: "timestamptz",
    dict: "jsonb",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, PostgreSQL type (`pg_type`'s spelling) and whether it may be
    NULL (the field's type admits `None`)."""

    name: str
    pg_type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """A table of the read model: its row type (whose fields are the columns, in order) and
    its primary key."""

    name: str
    row_type: type[R]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    json_positions: tuple[int, ...]
    """The positions of the `jsonb` columns (kept, not derived: `row` runs for every record)."""

    @classmethod
    def of(cls, name: str, row_type: type[R], key: Sequence[str]) -> Table[R]:
        hints = get_type_hints(row_type, include_extras=True)
        fields: tuple[str, ...] = row_type._fields  # type: ignore[attr-defined]
        columns = tuple(Column(field, *pg_type(hints[field])) for field in fields)
        missing = set(key) - set(fields)
        if missing:
            raise ValueError(f"{name}: key columns {sorted(missing)} are not fields")
        json_positions = tuple(i for i, c in enumerate(columns) if c.pg_type == "jsonb")
        return cls(name, row_type, tuple(key), columns, json_positions)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def qualified(self, schema: str = READ_SCHEMA) -> str:
        """`schema.name`, quoted: by default the view readers use."""
        return f"{ident(schema)}.{ident(self.name)}"

    def select_list(self, alias: str | None = None) -> str:
        """Every column, in order, quoted (and qualified by `alias`): a `SELECT` list whose
        records `row` turns into rows."""
        prefix = "" if alias is None else f"{alias}."
        return ", ".join(prefix + ident(name) for name in self.names)

    def row(self, record: Iterable[Any]) -> R:
        """A row from a record that selected every column, in order (`select_list`). JSON
        columns handed over as text (asyncpg's default for `jsonb`) are decoded."""
        positions = self.json_positions
        if not positions:
            return self.row_type._make(record)  # type: ignore[attr-defined,no-any-return]
        values = list(record)
        for i in positions:
            if isinstance(values[i], str | bytes):
                values[i] = json.loads(values[i])
        return self.row_type._make(values)  # type: ignore[attr-defined,no-any-return]


def pg_type(hint: Any) -> tuple[str, bool]:
    """The PostgreSQL type of a field's annotation, and whether it admits NULL."""
    nullable = False
    if get_origin(hint) in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        nullable = len(members) < len(get_args(hint))
        if len(members) != 1:
            raise TypeError(f"no single PostgreSQL type for {hint!r}")
        hint = members[0]
    if get_origin(hint) is Annotated:
        return get_args(hint)[1], nullable
    base = get_origin(hint) or hint
    if base not in _PG_TYPES:
        raise TypeError(f"no PostgreSQL type for {hint!r}")
    return _PG_TYPES[base], nullable


LECTURES = Table.of("lectures", LectureRow, ("lecture_id",))
SEGMENTS = Table.of("segments", SegmentRow, ("lecture_id", "segment_id"))
ASSETS = Table.of("assets", AssetRow, ("asset_id",))
ATTEMPTS = Table.of("asset_attempts", AttemptRow, ("asset_id", "prompt_version", "attempt"))
FEED = Table.of("lecture_event_feed", FeedRow, ("lecture_id", "seq"))
FEED_COUNTERS = Table.of("lecture_feed_counters", FeedCounterRow, ("lecture_id",))
OFFSETS = Table.of("projector_offsets", OffsetRow, ("consumer", "topic", "partition"))
REJECTED = Table.of("projector_rejected_events", RejectedRow, ("topic", "partition", "offset"))

TABLES: tuple[Table[Any], ...] = (
    LECTURES,
    SEGMENTS,
    ASSETS,
    ATTEMPTS,
    FEED,
    FEED_COUNTERS,
    OFFSETS,
    REJECTED,
)
"""Every table of a projection generation; each has a view of the same name in
`READ_SCHEMA`."""

BY_NAME: Mapping[str, Table[Any]] = {table.name: table for table in TABLES}

CURRENT_GENERATION_VIEW = "current_generation"
"""A view of `READ_SCHEMA` (`generation`, `schema_name`, `switched_at`): the generation the
other views point at. Selecting from it proves the read model is there."""
