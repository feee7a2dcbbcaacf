from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from shared.blobstore.sigv4 import EMPTY_SHA256, Credentials, sign


def test_the_signature_matches_aws_published_get_object_example() -> None:
    # "Signature Calculations for the Authorization Header", example: GET Object.
    headers = sign(
        "GET",
        httpx.URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        {"Range": "bytes=0-9"},
        EMPTY_SHA256,
        Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "us-east-1",
        datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert headers["x-amz-date"] == "20130524T000000Z"


def test_a_put_with_a_session_token_signs_as_botocore_does() -> None:
    body = b"media bytes"
    digest = hashlib.sha256(body).hexdigest()
    url = "http://127.0.0.1:9000/media/lectures/ab/" + "a" * 64 + ".png"
    ours = sign(
        "PUT",
        httpx.URL(url),
        {"Content-Type": "image/png"},
        digest,
        Credentials("AKID", "SECRET", "TOKEN"),
        "eu-west-1",
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    request = AWSRequest(
        method="PUT",
        url=url,
        data=body,
        headers={
            "content-type": "image/png",
            "x-amz-date": "20260102T030405Z",
            "x-amz-content-sha256": digest,
            "x-amz-security-token": "TOKEN",
        },
    )
    request.context["timestamp"] = "20260102T030405Z"
    auth = S3SigV4Auth(BotoCredentials("AKID", "SECRET", "TOKEN"), "s3", "eu-west-1")
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    assert ours["authorization"].endswith(f"Signature={expected}")
    assert ours["x-amz-security-token"] == "TOKEN"


def test_credentials_never_show_their_secret() -> None:
    assert "SECRET" not in repr(Credentials("AKID", "SECRET", "TOKEN"))
    assert "TOKEN" not in repr(Credentials("AKID", "SECRET", "TOKEN"))
