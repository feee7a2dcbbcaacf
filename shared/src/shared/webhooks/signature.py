"""Standard Webhooks signatures, as Replicate signs its deliveries.

The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`; the key is the account's
signing secret (`whsec_<base64>`: the prefix dropped, the rest base64-decoded); the
`webhook-signature` header holds space-separated `v1,<base64 HMAC-SHA256>` entries, any one of
which may match (several appear while a secret is being rotated). Pure: the clock is passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300
"""A delivery whose timestamp is further than this from our clock is refused (replays)."""
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class InvalidSignatureError(Exception):
    """The delivery is not signed with our secret, or not recently: nothing of it may be used."""


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """An account's webhook signing secret."""

    key: bytes

    @classmethod
    def parse(cls, text: str) -> SigningSecret:
        """`whsec_<base64>` (the form Replicate serves) or the bare base64."""
        encoded = text.strip().removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a webhook signing secret is whsec_ followed by base64") from exc
        if not key:
            raise ValueError("the webhook signing secret is empty")
        return cls(key)

    @classmethod
    def generate(cls) -> SigningSecret:
        return cls(secrets.token_bytes(32))

    def text(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode()

    def sign(self, webhook_id: str, timestamp: int, body: bytes) -> str:
        """The `webhook-signature` value of one delivery."""
        content = f"{webhook_id}.{timestamp}.".encode() + body
        digest = hmac.new(self.key, content, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery whose signature checked out."""

    webhook_id: str
    timestamp: int
    body: bytes


def verify(
    secret: SigningSecret, headers: Mapping[str, str], body: bytes, now_s: float
) -> Delivery:
    """The delivery if `headers` sign `body` with `secret` within `TOLERANCE_S` of `now_s`;
    raises `InvalidSignatureError` saying why not. `headers` must be case-insensitive or
    lower-cased."""
    webhook_id = headers.get(ID_HEADER, "")
    raw_timestamp = headers.get(TIMESTAMP_HEADER, "")
    signatures = headers.get(SIGNATURE_HEADER, "")
    if not webhook_id or not raw_timestamp or not signatures:
        raise InvalidSignatureError(
            f"missing {ID_HEADER}, {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
        )
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidSignatureError(f"{TIMESTAMP_HEADER} is not a number of seconds") from None
    if abs(now_s - timestamp) > TOLERANCE_S:
        raise InvalidSignatureError(f"{TIMESTAMP_HEADER} is more than {TOLERANCE_S} s off")
    expected = secret.sign(webhook_id, timestamp, body).encode()
    for entry in signatures.split():
        if hmac.compare_digest(entry.encode(), expected):
            return Delivery(webhook_id, timestamp, body)
    raise InvalidSignatureError("no signature matches the signing secret")


def signed_headers(
    secret: SigningSecret, webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers a sender adds to a delivery of `body`."""
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: secret.sign(webhook_id, timestamp, body),
    }
