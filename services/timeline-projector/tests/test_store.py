import pytest

from timeline_projector import store


@pytest.mark.parametrize("table", store.TABLES, ids=lambda t: t.name)
def test_each_table_has_its_row_fields_as_columns_in_the_same_order(table: store.Table) -> None:
    assert table.names == table.row_type._fields
