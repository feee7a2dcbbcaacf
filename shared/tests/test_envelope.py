import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import CONTENT_TYPE, Envelope, decode, encode, encode_new, envelop, subject_of
from shared.events import (
    PAYLOAD_TYPES,
    AssetEvent,
    AssetFailed,
    GenerateAsset,
    LectureCreated,
    Payload,
    PayloadError,
    parse_payload,
)
from shared.kafka.records import Headers, header

from .strategies import PAYLOADS, envelopes

NOW = datetime(2026, 3, 1, 12, 0, 5, 123000, tzinfo=UTC)
SOURCE = "lecturegen/image-worker"
BINARY_MODE_HEADERS = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
}


def golden(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((Path(__file__).parent / "golden" / name).read_text())
    return data


FAILED = parse_payload(AssetFailed.TYPE, golden("asset.failed.v1.json"))
LECTURE = parse_payload(LectureCreated.TYPE, golden("lecture.created.v1.json"))
COMMAND = parse_payload(GenerateAsset.TYPE, golden("command.generate-asset.v1.json"))


def record(payload: Payload = FAILED, correlation_id: str | None = None) -> tuple[bytes, Headers]:
    return encode(envelop(payload, SOURCE, correlation_id=correlation_id, now=NOW))


def without(headers: Headers, name: str) -> Headers:
    return [(k, v) for k, v in headers if k != name]


def replaced(headers: Headers, name: str, value: bytes) -> Headers:
    return [*without(headers, name), (name, value)]


# --- encoding ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [FAILED, LECTURE, COMMAND], ids=lambda p: p.short_type())
def test_the_headers_are_exactly_the_cloudevents_binary_mode_set(payload: Payload) -> None:
    _, headers = record(payload)

    assert sorted(name for name, _ in headers) == sorted(BINARY_MODE_HEADERS)


def test_a_correlation_id_travels_as_the_one_extension_header() -> None:
    _, headers = record(correlation_id="c-1")

    assert {name for name, _ in headers} == BINARY_MODE_HEADERS | {"ce_correlationid"}
    assert header(headers, "ce_correlationid") == "c-1"


def test_the_header_values_describe_the_event() -> None:
    value, headers = record()

    assert header(headers, "ce_specversion") == "1.0"
    assert header(headers, "ce_type") == "lecturegen.asset.failed.v1"
    assert header(headers, "ce_source") == SOURCE
    assert header(headers, "content-type") == CONTENT_TYPE
    assert datetime.fromisoformat(str(header(headers, "ce_time"))) == NOW
    assert json.loads(value) == golden("asset.failed.v1.json")


def test_the_subject_of_an_asset_event_names_its_lecture_and_asset() -> None:
    assert isinstance(FAILED, AssetEvent)
    _, headers = record(FAILED)

    assert header(headers, "ce_subject") == (
        f"lectures/{FAILED.lecture_id}/assets/{FAILED.asset_id}"
    )


def test_the_subject_of_a_generate_asset_command_names_its_lecture_and_asset() -> None:
    assert isinstance(COMMAND, GenerateAsset)

    assert envelop(COMMAND, SOURCE).subject == (
        f"lectures/{COMMAND.lecture_id}/assets/{COMMAND.asset_id}"
    )


def test_the_subject_of_a_lecture_event_names_the_lecture() -> None:
    assert isinstance(LECTURE, LectureCreated)

    assert envelop(LECTURE, SOURCE).subject == f"lectures/{LECTURE.lecture_id}"


def test_envelope_ids_are_unique_uuid7s_in_the_order_they_were_made() -> None:
    ids = [envelop(FAILED, SOURCE).id for _ in range(2_000)]

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert {(uuid.UUID(i).version, uuid.UUID(i).variant) for i in ids} == {(7, uuid.RFC_4122)}


def test_an_envelope_id_carries_the_time_it_was_made() -> None:
    before = int(datetime.now(UTC).timestamp() * 1000)
    made = envelop(FAILED, SOURCE)
    after = int(datetime.now(UTC).timestamp() * 1000)

    assert before <= uuid.UUID(made.id).int >> 80 <= after


def test_an_envelope_reports_the_type_of_its_payload() -> None:
    assert envelop(LECTURE, SOURCE).type == "lecturegen.lecture.created.v1"


# --- decoding ------------------------------------------------------------------------


def test_a_record_decodes_to_the_envelope_it_was_encoded_from() -> None:
    envelope = envelop(FAILED, SOURCE, correlation_id="c-1", now=NOW)

    assert decode(*encode(envelope)) == envelope


def test_a_content_type_with_a_charset_parameter_is_accepted() -> None:
    value, headers = record()

    decoded = decode(value, replaced(headers, "content-type", b"application/json; charset=utf-8"))

    assert decoded.payload == FAILED


def test_a_record_without_a_content_type_is_read_as_json() -> None:
    value, headers = record()

    assert decode(value, without(headers, "content-type")).payload == FAILED


def test_a_record_without_a_time_is_stamped_when_read() -> None:
    value, headers = record()
    before = datetime.now(UTC)

    decoded = decode(value, without(headers, "ce_time"))

    assert decoded.time >= before


def test_a_time_without_an_offset_is_read_as_utc() -> None:
    value, headers = record()

    decoded = decode(value, replaced(headers, "ce_time", b"2026-03-01T12:00:05.123"))

    assert decoded.time == NOW


def try_decode(value: bytes | None, headers: Headers) -> Envelope | PayloadError:
    try:
        return decode(value, headers)
    except PayloadError as exc:
        return exc


def reject(value: bytes | None, headers: Headers, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode(value, headers)
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize("value", [b"not json", b'{"truncated": ', b"\xff\xfe"])
def test_a_value_that_is_not_json_is_rejected(value: bytes) -> None:
    reject(value, record()[1], "value is not JSON")


@pytest.mark.parametrize("value", [b"null", b"[1, 2]", b'"text"'])
def test_a_json_value_that_is_not_an_object_is_rejected(value: bytes) -> None:
    reject(value, record()[1], "payload must be a JSON object")


def test_a_null_value_is_rejected() -> None:
    reject(None, record()[1], "empty record value")


@pytest.mark.parametrize("name", ["ce_specversion", "ce_id", "ce_source", "ce_type"])
def test_a_record_missing_a_required_header_is_rejected_naming_it(name: str) -> None:
    value, headers = record()

    reject(value, without(headers, name), f"missing header(s) {name}")


def test_a_required_header_with_an_empty_value_counts_as_missing() -> None:
    value, headers = record()

    reject(value, replaced(headers, "ce_id", b""), "missing header(s) ce_id")


def test_a_specversion_that_is_not_utf_8_is_rejected_with_its_text() -> None:
    value, headers = record()

    reject(value, replaced(headers, "ce_specversion", b"1.\xff"), "specversion '1.\ufffd'")


def test_a_record_without_any_headers_is_rejected_naming_all_required_ones() -> None:
    reject(record()[0], [], "missing header(s) ce_specversion, ce_id, ce_source, ce_type")


def test_an_unknown_type_is_rejected() -> None:
    value, headers = record()

    reject(value, replaced(headers, "ce_type", b"lecturegen.asset.deleted.v1"), "unknown event")


def test_an_unsupported_schema_version_is_rejected() -> None:
    value, headers = record()
    data = json.loads(value) | {"schema_version": 2}

    reject(json.dumps(data).encode(), headers, "unsupported schema_version 2")


def test_invalid_fields_are_rejected_naming_them() -> None:
    value, headers = record()
    data = json.loads(value) | {"prompt_version": 0, "kind": "hologram"}

    with pytest.raises(PayloadError) as caught:
        decode(json.dumps(data).encode(), headers)

    assert caught.value.reason.startswith("invalid lecturegen.asset.failed.v1: ")
    assert "prompt_version" in caught.value.reason
    assert "kind" in caught.value.reason


@pytest.mark.parametrize(
    "ctype", [b"text/plain", b"application/jsonx", b"application/avro", b"application/xml"]
)
def test_a_wrong_content_type_is_rejected(ctype: bytes) -> None:
    value, headers = record()

    reject(value, replaced(headers, "content-type", ctype), "unsupported content-type")


def test_an_unsupported_specversion_is_rejected() -> None:
    value, headers = record()

    reject(value, replaced(headers, "ce_specversion", b"0.3"), "specversion '0.3'")


def test_a_time_that_is_not_rfc3339_is_rejected() -> None:
    value, headers = record()

    reject(value, replaced(headers, "ce_time", b"yesterday"), "ce_time is not an RFC 3339")


def test_a_repeated_header_is_read_by_its_last_value() -> None:
    value, headers = record()

    decoded = decode(value, [("ce_source", b"first"), *headers, ("ce_id", b"last")])

    assert (decoded.source, decoded.id) == (SOURCE, "last")


# --- the direct parse of current-version payloads -----------------------------------

GOLDEN_SAMPLES = sorted((Path(__file__).parent / "golden").glob("*.json"))


def golden_type(path: Path) -> str:
    """`asset.generated.v1.json` → `lecturegen.asset.generated.v1`."""
    return f"lecturegen.{path.stem.rpartition('.v')[0]}.v1"


def the_general_path(value: bytes, headers: Headers) -> Payload:
    """What `decode` gives for a payload: `json.loads`, upcast, validate."""
    return parse_payload(str(header(headers, "ce_type")), json.loads(value))


@pytest.mark.parametrize("path", GOLDEN_SAMPLES, ids=lambda p: p.name)
def test_every_golden_sample_decodes_to_what_the_general_path_gives(path: Path) -> None:
    value = path.read_bytes()
    _, headers = record()
    headers = replaced(headers, "ce_type", golden_type(path).encode())

    decoded = decode(value, headers).payload
    expected = the_general_path(value, headers)

    assert type(decoded) is type(expected)
    assert decoded == expected
    assert decoded.model_fields_set == expected.model_fields_set
    assert decoded.model_dump_json() == expected.model_dump_json()


@settings(max_examples=100, deadline=None)
@given(envelope=envelopes(st.one_of(*PAYLOADS.values())))
def test_decoding_gives_exactly_the_payload_of_the_general_path(envelope: Envelope) -> None:
    value, headers = encode(envelope)

    decoded = decode(value, headers).payload
    expected = the_general_path(value, headers)

    assert type(decoded) is type(expected)
    assert decoded == expected
    assert decoded.model_fields_set == expected.model_fields_set


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"schema_version": 1.0}, "unsupported schema_version 1.0"),
        ({"schema_version": True}, "unsupported schema_version True"),
        ({"schema_version": "1"}, "unsupported schema_version '1'"),
        ({"schema_version": 2}, "unsupported schema_version 2"),
    ],
    ids=["float", "bool", "string", "future"],
)
def test_a_schema_version_that_is_not_the_integer_of_a_known_version_is_rejected(
    change: dict[str, object], reason: str
) -> None:
    value, headers = record()

    reject(json.dumps(json.loads(value) | change).encode(), headers, reason)


def test_a_payload_without_a_schema_version_is_read_as_version_1() -> None:
    value, headers = record()
    data = json.loads(value)
    del data["schema_version"]

    assert decode(json.dumps(data).encode(), headers).payload == FAILED


def test_a_current_shaped_payload_without_a_schema_version_is_upcast_from_version_1() -> None:
    generated = golden("asset.generated.v2.json")
    del generated["schema_version"]
    _, headers = record()
    headers = replaced(headers, "ce_type", b"lecturegen.asset.generated.v1")

    reject(json.dumps(generated).encode(), headers, "cannot upcast")


@pytest.mark.parametrize(
    "params",
    [b'{"x": NaN}', b'{"x": -Infinity}', b'{"x": 1e400}', b'{"x": 12345678901234567890123}'],
    ids=["nan", "infinity", "overflow", "big-int"],
)
def test_unusual_json_numbers_decode_as_json_loads_reads_them(params: bytes) -> None:
    value, headers = record(COMMAND.model_copy(update={"params": {}}))
    value = value.replace(b'"params":{}', b'"params":' + params)
    assert b'"params":' + params in value

    decoded = decode(value, headers).payload

    assert isinstance(decoded, GenerateAsset)
    assert repr(decoded.params) == repr(json.loads(params))


# --- round trips ---------------------------------------------------------------------


def test_there_is_a_strategy_for_every_payload_type() -> None:
    assert set(PAYLOADS) == set(PAYLOAD_TYPES.values())


@pytest.mark.parametrize("model", list(PAYLOADS), ids=lambda t: t.__name__)
def test_every_payload_type_round_trips_through_encode_and_decode(model: type[Payload]) -> None:
    @settings(max_examples=50, deadline=None)
    @given(envelope=envelopes(PAYLOADS[model]))
    def round_trip(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, model)
        decoded = decode(*encode(envelope))

        assert decoded == envelope

    round_trip()


@settings(max_examples=50, deadline=None)
@given(envelope=envelopes(st.one_of(*PAYLOADS.values())), garbage=st.binary(max_size=30))
def test_a_corrupted_value_raises_nothing_but_a_payload_error_with_a_reason(
    envelope: Envelope, garbage: bytes
) -> None:
    value, headers = encode(envelope)

    outcome = try_decode(value[: len(value) // 2] + garbage, headers)

    if isinstance(outcome, PayloadError):
        assert outcome.reason
    else:
        assert outcome.type == envelope.type


@given(st.one_of(*PAYLOADS.values()), st.none() | st.text(min_size=1, max_size=20))
def test_encoding_a_new_event_directly_is_encoding_its_envelope(
    payload: Payload, correlation_id: str | None
) -> None:
    value, headers = encode_new(payload, SOURCE, correlation_id=correlation_id, now=NOW)
    made_id = header(headers, "ce_id") or ""
    envelope = Envelope(
        payload, SOURCE, made_id, NOW, subject_of(payload), correlation_id=correlation_id
    )

    assert (value, headers) == encode(envelope)
    assert uuid.UUID(made_id).version == 7
