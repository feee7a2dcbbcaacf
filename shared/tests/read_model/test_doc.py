"""`docs/read-model.md` says what each column means; its column tables must list exactly the
read model's columns, types, NULLs and keys, in order."""

from __future__ import annotations

import re
from pathlib import Path

from shared.read_model.tables import TABLES, Column

DOC = Path(__file__).resolve().parents[3] / "docs" / "read-model.md"

_SECTION = re.compile(r"^### `(?P<table>\w+)`", re.MULTILINE)
_ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<type>[^|]+?) \| (?P<meaning>[^|]*)\|$", re.MULTILINE)
_PG_TYPES = {
    "text": "text",
    "integer": "int4",
    "bigint": "int8",
    "double precision": "float8",
    "boolean": "bool",
    "timestamptz": "timestamptz",
    "jsonb": "jsonb",
}


def documented() -> dict[str, tuple[list[Column], tuple[str, ...]]]:
    """Each documented table's columns and primary key, as the page states them."""
    text = DOC.read_text("utf-8")
    starts = list(_SECTION.finditer(text))
    tables = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        section = text[match.end() : following.start() if following else len(text)]
        columns, key = [], []
        for row in _ROW.finditer(section.split("\n## ")[0]):
            words = row["type"].split()
            nullable = "NULL" in words
            in_key = "PK" in words or row["meaning"].startswith("PK")
            pg_type = " ".join(w for w in words if w not in ("NULL", "PK", "UNIQUE"))
            columns.append(Column(row["name"], _PG_TYPES[pg_type], nullable))
            if in_key:
                key.append(row["name"])
        tables[match["table"]] = (columns, tuple(key))
    return tables


def test_the_page_documents_every_table_of_the_read_model_with_its_columns_and_key() -> None:
    pages = documented()

    assert set(pages) == {table.name for table in TABLES}
    for table in TABLES:
        columns, key = pages[table.name]
        assert columns == list(table.columns), table.name
        assert key == table.key, table.name
