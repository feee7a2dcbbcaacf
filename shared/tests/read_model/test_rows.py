from datetime import UTC, datetime

import pytest

from shared.read_model.rows import LectureRow, replaced

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


def test_a_replaced_row_is_the_row_named_tuple_replace_makes() -> None:
    row = LectureRow("l1", "title", 12.5, "e1", T0, T0)

    new = replaced(row, {"updated_at": T1, "title": "other"})

    assert new == row._replace(updated_at=T1, title="other")
    assert type(new) is LectureRow
    assert row.updated_at == T0  # the original is untouched


def test_replacing_a_field_a_row_does_not_have_raises() -> None:
    with pytest.raises(KeyError, match="colour"):
        replaced(LectureRow("l1", "title", 1.0, "e1", T0, T0), {"colour": "red"})
