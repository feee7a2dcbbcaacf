import pytest

from api.routers.media import is_safe_key

KEY = "ab/" + "ab" + "0" * 62 + ".png"


def test_a_content_addressed_key_is_safe() -> None:
    assert is_safe_key(KEY)


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "ab/../../etc/passwd",
        "/etc/passwd",
        "ab//x.png",
        "ab\\x.png",
        ".hidden",
        "ab/.incoming-1",
        "ab/x.png\x00",
        "a" * 513,
    ],
)
def test_keys_that_could_leave_the_store_are_refused(key: str) -> None:
    assert not is_safe_key(key)
