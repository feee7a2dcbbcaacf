import pytest

from api.problems import field_name


@pytest.mark.parametrize(
    ("loc", "name"),
    [
        (("body", "segments", 2, "duration_s"), "segments.2.duration_s"),
        (("body",), "body"),
        (("query", "status"), "query.status"),
        (("header", "Last-Event-ID"), "header.Last-Event-ID"),
    ],
)
def test_a_validation_location_becomes_a_dotted_field_name(
    loc: tuple[int | str, ...], name: str
) -> None:
    assert field_name(loc) == name
