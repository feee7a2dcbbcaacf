import pytest

from api.ranges import ByteRange, RangeNotSatisfiableError, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("BYTES = 5 - 5", ByteRange(5, 5)),
    ],
)
def test_a_single_range_is_clamped_to_the_file(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", [None, "bytes=", "bytes=-", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=0-1,5-6"]
)
def test_headers_we_may_ignore_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, 1000) is None


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 1000), ("bytes=-1", 0)]
)
def test_a_range_outside_the_file_cannot_be_satisfied(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, size)


def test_content_range_names_the_inclusive_bounds_and_the_size() -> None:
    assert ByteRange(10, 19).content_range(100) == "bytes 10-19/100"
    assert ByteRange(10, 19).length == 10
