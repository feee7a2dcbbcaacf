import json
from pathlib import Path

from shared import headers
from shared.envelope import decode, encode, envelop
from shared.events import AssetRetrying, parse_payload
from shared.kafka.records import header

RETRYING = parse_payload(
    AssetRetrying.TYPE,
    json.loads((Path(__file__).parent / "golden" / "asset.retrying.v1.json").read_text()),
)


def test_the_retry_headers_of_the_design_have_distinct_names() -> None:
    # DESIGN §4: attempt number, due time, original topic/partition/offset, last error code,
    # correlation id.
    required = [
        headers.ATTEMPT,
        headers.DUE_AT,
        headers.ORIGINAL_TOPIC,
        headers.ORIGINAL_PARTITION,
        headers.ORIGINAL_OFFSET,
        headers.ERROR_CODE,
        headers.CORRELATION_ID,
    ]
    every = [v for k, v in vars(headers).items() if k.isupper() and isinstance(v, str)]

    assert set(required) <= set(every)
    assert len(every) == len(set(every))


def test_the_correlation_header_is_the_one_the_envelope_writes_and_reads() -> None:
    value, written = encode(envelop(RETRYING, "test", correlation_id="c-9"))

    assert header(written, headers.CORRELATION_ID) == "c-9"
    assert decode(value, written).correlation_id == "c-9"
