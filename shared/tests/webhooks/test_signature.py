"""The Standard Webhooks signature, checked against the scheme's own published test vector
(standard-webhooks/standard-webhooks, `libraries` test suites: secret, id, timestamp, payload
and expected signature below)."""

from __future__ import annotations

import pytest

from shared.webhooks.signature import InvalidSignatureError, SigningSecret, signed_headers, verify

SECRET = SigningSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str = EXPECTED, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_signing_matches_the_published_vector() -> None:
    assert SECRET.sign(ID, TIMESTAMP, BODY) == EXPECTED


def test_a_correct_signature_verifies() -> None:
    delivery = verify(SECRET, _headers(), BODY, now_s=TIMESTAMP + 10)
    assert (delivery.webhook_id, delivery.timestamp, delivery.body) == (ID, TIMESTAMP, BODY)


def test_one_matching_entry_among_several_is_enough() -> None:
    verify(SECRET, _headers(f"v1,bm90IGl0 {EXPECTED}"), BODY, now_s=TIMESTAMP)


@pytest.mark.parametrize(
    ("headers", "body", "now"),
    [
        (_headers(), b'{"test": 2432232315}', TIMESTAMP),
        (_headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="), BODY, TIMESTAMP),
        (_headers(EXPECTED.replace("v1,", "v2,")), BODY, TIMESTAMP),
        (_headers(), BODY, TIMESTAMP + 301),
        (_headers(), BODY, TIMESTAMP - 301),
        ({"webhook-id": ID, "webhook-timestamp": str(TIMESTAMP)}, BODY, TIMESTAMP),
        (_headers(timestamp=0) | {"webhook-timestamp": "soon"}, BODY, TIMESTAMP),
    ],
    ids=[
        "body changed",
        "signature changed",
        "unknown version",
        "stale",
        "future",
        "unsigned",
        "timestamp not a number",
    ],
)
def test_anything_else_is_refused(headers: dict[str, str], body: bytes, now: float) -> None:
    with pytest.raises(InvalidSignatureError):
        verify(SECRET, headers, body, now_s=now)


def test_another_secret_does_not_verify() -> None:
    other = SigningSecret.generate()
    with pytest.raises(InvalidSignatureError):
        verify(other, _headers(), BODY, now_s=TIMESTAMP)


def test_signed_headers_verify_and_the_secret_round_trips() -> None:
    secret = SigningSecret.parse(SigningSecret.generate().text())
    verify(secret, signed_headers(secret, "msg_1", 1000, b"{}"), b"{}", now_s=1000)


@pytest.mark.parametrize("text", ["whsec_", "whsec_not base64!", ""])
def test_a_malformed_secret_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        SigningSecret.parse(text)
