"""AWS Signature Version 4 for S3-compatible requests (header form, whole payload hashed).

Written out rather than pulled in with a client library (decision 0026): the store's calls are
plain HTTP on the service's own client except for this. Checked against AWS's published example
and botocore's signer, and exercised against an S3 server in the blob store contract tests.
Credentials are static: there is no provider chain and no refresh.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key pair (and session token, for temporary credentials)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def sign(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    payload_sha256: str,
    credentials: Credentials,
    region: str,
    now: datetime,
    service: str = "s3",
) -> dict[str, str]:
    """The headers to send with the request: `headers` plus the date, payload hash, token
    and `Authorization` headers. `now` must be in UTC."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    signed = {key.lower(): " ".join(value.split()) for key, value in headers.items()}
    signed["host"] = url.netloc.decode("ascii")
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_sha256
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = sorted(signed)
    canonical_request = "\n".join(
        (
            method.upper(),
            quote(url.path, safe="/-_.~"),
            _canonical_query(url),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        )
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join((ALGORITHM, amz_date, scope, _sha256(canonical_request)))
    signature = hmac.new(
        _signing_key(credentials.secret_access_key, amz_date[:8], region, service),
        string_to_sign.encode(),
        hashlib.sha256,
    ).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    out = {key: value for key, value in signed.items() if key != "host"}
    return {**out, "authorization": authorization}


def _canonical_query(url: httpx.URL) -> str:
    pairs = sorted(
        (quote(key, safe="-_.~"), quote(value, safe="-_.~"))
        for key, value in url.params.multi_items()
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
