from __future__ import annotations

import hashlib

import pytest

from shared.blobstore.keys import blob_key, content_type_of, is_valid_key, normalize_content_type


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("image/png", "image/png"),
        ("IMAGE/PNG", "image/png"),
        ("image/jpg", "image/jpeg"),
        ("audio/x-wav", "audio/wav"),
        ("audio/wave; codecs=1", "audio/wav"),
        ("audio/mp3", "audio/mpeg"),
        ("video/mp4", "video/mp4"),
        ("text/html", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
def test_content_types_are_normalised(given: str, normal: str) -> None:
    assert normalize_content_type(given) == normal


def test_a_key_is_the_sha256_under_its_two_first_hex_digits_with_the_type_extension() -> None:
    digest = hashlib.sha256(b"abc").hexdigest()
    assert blob_key(b"abc", "audio/mpeg") == f"{digest[:2]}/{digest}.mp3"


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "image/jpeg", "image/webp", "audio/wav", "audio/mpeg", "video/mp4"],
)
def test_the_content_type_is_recovered_from_the_key(content_type: str) -> None:
    key = blob_key(b"x", content_type)
    assert is_valid_key(key)
    assert content_type_of(key) == content_type


@pytest.mark.parametrize(
    "key",
    [
        "../" + "a" * 64 + ".png",
        "aa/" + "a" * 64 + ".png/..",
        "ab/" + "a" * 64 + ".png",  # prefix does not match the digest
        "aa/" + "A" * 64 + ".png",
        "aa/" + "a" * 63 + ".png",
        "aa/" + "a" * 64 + ".exe",
        "/aa/" + "a" * 64 + ".png",
        "aa\\" + "a" * 64 + ".png",
    ],
)
def test_keys_not_made_by_blob_key_are_invalid(key: str) -> None:
    assert not is_valid_key(key)
