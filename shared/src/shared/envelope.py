"""CloudEvents 1.0 in Kafka binary mode: the payload is the value, attributes are headers.

`encode` and `decode` are the only places that know the header names. `encode` is pure; so is
`decode`, except that a record without a `ce_time` header (optional in CloudEvents, and always
written by `encode`) is given the time it was decoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from shared.events import (
    PAYLOAD_TYPES,
    AssetEvent,
    GenerateAsset,
    LectureCreated,
    Payload,
    PayloadError,
    parse_payload,
)
from shared.headers import CORRELATION_ID
from shared.ids import new_id
from shared.kafka.records import Headers

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type")


@dataclass(frozen=True, slots=True)
class Envelope:
    """One CloudEvent: its attributes and its payload."""

    payload: Payload
    source: str
    id: str = field(default_factory=new_id)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None

    @property
    def type(self) -> str:
        return self.payload.TYPE


def subject_of(payload: Payload) -> str | None:
    """`lectures/{lecture_id}/assets/{asset_id}` for asset events and commands,
    `lectures/{lecture_id}` for lecture events."""
    if isinstance(payload, AssetEvent | GenerateAsset):
        return f"lectures/{payload.lecture_id}/assets/{payload.asset_id}"
    if isinstance(payload, LectureCreated):
        return f"lectures/{payload.lecture_id}"
    return None


def envelop(
    payload: Payload,
    source: str,
    *,
    correlation_id: str | None = None,
    now: datetime | None = None,
) -> Envelope:
    """Wrap a payload in a new envelope with a fresh id and the right subject."""
    return Envelope(
        payload=payload,
        source=source,
        time=now or datetime.now(UTC),
        subject=subject_of(payload),
        correlation_id=correlation_id,
    )


def encode(envelope: Envelope) -> tuple[bytes, Headers]:
    """The Kafka value and headers of an envelope."""
    return _encoded(
        envelope.payload,
        envelope.source,
        envelope.id,
        envelope.time,
        envelope.subject,
        envelope.correlation_id,
    )


def encode_new(
    payload: Payload, source: str, *, correlation_id: str | None, now: datetime
) -> tuple[bytes, Headers]:
    """`encode(envelop(payload, source, correlation_id=..., now=now))`, without the envelope
    in between: a worker writes two events per request this way."""
    return _encoded(payload, source, new_id(), now, subject_of(payload), correlation_id)


def _encoded(
    payload: Payload,
    source: str,
    ce_id: str,
    time: datetime,
    subject: str | None,
    correlation_id: str | None,
) -> tuple[bytes, Headers]:
    headers: Headers = [
        _SPEC_VERSION_HEADER,
        ("ce_id", ce_id.encode()),
        ("ce_source", _constant(source)),
        ("ce_type", _constant(payload.TYPE)),
        ("ce_time", time.isoformat().encode()),
        _CONTENT_TYPE_HEADER,
    ]
    if subject is not None:
        headers.append(("ce_subject", subject.encode()))
    if correlation_id is not None:
        headers.append((CORRELATION_ID, correlation_id.encode()))
    return payload.model_dump_json().encode(), headers


_CONSTANTS: dict[str, bytes] = {}
"""Sources and types encoded once: a process writes only a few of each."""


def _constant(text: str) -> bytes:
    found = _CONSTANTS.get(text)
    if found is None:
        if len(_CONSTANTS) > 1000:  # not a constant after all: keep the cache small
            _CONSTANTS.clear()
        found = _CONSTANTS[text] = text.encode()
    return found


def decode(value: bytes | None, headers: Headers | tuple[tuple[str, bytes], ...]) -> Envelope:
    """Parse a Kafka record into an envelope; raise `PayloadError` with the reason if it is bad."""
    raw = dict(headers)  # the last value of a repeated header wins, as in `header`
    required = [raw.get(name) for name in _REQUIRED]
    if not all(required):  # an empty value is as good as none
        missing = [name for name, found in zip(_REQUIRED, required, strict=True) if not found]
        raise PayloadError(f"not a CloudEvent: missing header(s) {', '.join(missing)}")
    specversion, ce_id, source, ce_type = required
    if specversion != _SPEC_VERSION:
        raise PayloadError(f"unsupported CloudEvents specversion {_text(specversion)!r}")
    ctype = raw.get("content-type")
    if ctype is not None and ctype != _CONTENT_TYPE:
        _check_content_type(str(_text(ctype)))
    if value is None:
        raise PayloadError("empty record value")
    type_name = _text(ce_type) or ""
    payload = _current_payload(type_name, value)
    if payload is None:
        try:
            data: Any = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"value is not JSON: {exc}") from exc
        payload = parse_payload(type_name, data)
    return Envelope(
        payload=payload,
        source=_text(source) or "",
        id=_text(ce_id) or "",
        time=_parse_time(_text(raw.get("ce_time"))),
        subject=_text(raw.get("ce_subject")),
        correlation_id=_text(raw.get(CORRELATION_ID)),
    )


_SPEC_VERSION = SPEC_VERSION.encode()
_CONTENT_TYPE = CONTENT_TYPE.encode()
_SPEC_VERSION_HEADER = ("ce_specversion", _SPEC_VERSION)
_CONTENT_TYPE_HEADER = ("content-type", _CONTENT_TYPE)


def _check_content_type(ctype: str) -> None:
    # A missing content-type means JSON (CloudEvents' default); parameters such as
    # `; charset=utf-8` are allowed, any other media type is not.
    if ctype.split(";")[0].strip().lower() != CONTENT_TYPE:
        raise PayloadError(f"unsupported content-type {ctype!r}, expected {CONTENT_TYPE}")


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _current_payload(ce_type: str, value: bytes) -> Payload | None:
    """The payload of a record written at its type's current schema version, parsed straight
    from the bytes; None for anything else (an old version, an error, an unknown type), which
    `json.loads` and `parse_payload` then handle with their reasons.

    Strict validation accepts a subset of what `parse_payload` accepts and gives the same
    values for it, and an explicit integer `schema_version` equal to the current one means
    there is nothing to upcast: so whatever this returns, the general path returns too.
    """
    model = PAYLOAD_TYPES.get(ce_type)
    if model is None:
        return None
    try:
        payload = model.model_validate_json(value, strict=True)
    except ValidationError:
        return None
    if "schema_version" not in payload.model_fields_set:
        return None  # read as version 1 by the general path, which may need upcasting
    return payload if payload.schema_version == model.SCHEMA_VERSION else None


def _parse_time(raw: str | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise PayloadError(f"ce_time is not an RFC 3339 time: {raw!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
