"""Saved outcome records (`dump_records`) read back byte for byte, whichever encoder wrote
them: rows saved before the encoder changed are read after it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.kafka.records import Outgoing, dump_records, load_records

SAVED_BEFORE = (
    '[{"topic": "lecturegen.events.v1", "key": "bGVjdHVyZS0x", "value": "eyJhIjogIlx1MDBlOSJ9", '
    '"headers": [["ce_id", "MDE5YQ=="], ["lg_error_message", "w6lycmV1cg=="]]}]'
)
"""What the former encoder (`json.dumps`, `base64.b64encode`) wrote for `RECORD`."""
RECORD = Outgoing(
    "lecturegen.events.v1",
    b"lecture-1",
    b'{"a": "\\u00e9"}',
    [("ce_id", b"019a"), ("lg_error_message", "érreur".encode())],
)

outgoing = st.builds(
    Outgoing,
    topic=st.text(min_size=1, max_size=40),
    key=st.binary(max_size=40),
    value=st.binary(max_size=400),
    headers=st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=6),
)


@given(st.lists(outgoing, max_size=4))
def test_saved_records_read_back_byte_for_byte(records: list[Outgoing]) -> None:
    assert load_records(dump_records(records)) == records


def test_records_saved_by_the_former_encoder_read_back_and_are_written_the_same_way() -> None:
    assert load_records(SAVED_BEFORE) == [RECORD]
    assert json.loads(dump_records([RECORD])) == json.loads(SAVED_BEFORE)
