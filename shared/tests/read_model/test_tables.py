"""The read model's definitions: columns from row fields, typed rows from records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, NamedTuple

import pytest

from shared.read_model.notify import FeedNotice
from shared.read_model.rows import BIGINT, Json
from shared.read_model.tables import ASSETS, TABLES, Column, Table
from shared.testing.read_model import asset_row

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class GadgetRow(NamedTuple):
    gadget_id: str
    size: Annotated[int, BIGINT] | None
    weight: float
    spec: Json
    seen_at: datetime | None
    ok: bool


def test_a_tables_columns_are_its_row_fields_in_order_with_their_postgresql_types() -> None:
    table = Table.of("gadgets", GadgetRow, ("gadget_id",))

    assert table.columns == (
        Column("gadget_id", "text", nullable=False),
        Column("size", "int8", nullable=True),
        Column("weight", "float8", nullable=False),
        Column("spec", "jsonb", nullable=False),
        Column("seen_at", "timestamptz", nullable=True),
        Column("ok", "bool", nullable=False),
    )
    assert table.select_list("g") == 'g."gadget_id", g."size", g."weight", g."spec", ' + (
        'g."seen_at", g."ok"'
    )


def test_a_key_that_is_no_field_is_refused() -> None:
    with pytest.raises(ValueError, match="colour"):
        Table.of("gadgets", GadgetRow, ("colour",))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_read_model_table_has_its_row_fields_as_columns(table: Table[tuple[object]]) -> None:
    assert table.names == table.row_type._fields  # type: ignore[attr-defined]
    assert set(table.key) <= set(table.names)


def test_a_record_with_json_as_text_reads_back_as_the_typed_row() -> None:
    error = {"code": "SENSITIVE_CONTENT", "message": "flagged"}
    row = asset_row(status="failed", error=error, params={"seed": 7}, media_size_bytes=2**40)
    as_stored = [json.dumps(v) if isinstance(v, dict) else v for v in row]

    assert ASSETS.row(as_stored) == row
    assert ASSETS.row(list(row)) == row  # a connection that decodes jsonb itself


def test_a_feed_notice_survives_its_payload() -> None:
    notice = FeedNotice("lec:with:colons", 42)

    assert notice.payload() == "lec:with:colons:42"
    assert FeedNotice.parse(notice.payload()) == notice
    assert FeedNotice.parse("garbage") is None
    assert FeedNotice.parse("lec:") is None
