"""The stream record: one wire form for every writer and reader of the partition streams."""

from __future__ import annotations

import orjson
import pytest

from onescreen.events import BadRecord, StreamRecord

DOC = {"family": "access", "ts": 1_700_000_000_000, "event_id": "e-1", "person_id": "p-1", "lat": 28.5}


def test_round_trip_with_bytes_or_str_fields():
    fields = StreamRecord.encode(DOC)
    assert fields == {"d": orjson.dumps(DOC)}  # the wire form stays what every deployed reader expects
    assert StreamRecord.payload(DOC) == fields["d"]
    assert StreamRecord.decode({b"d": fields["d"]}) == DOC  # redis-py's default answer
    assert StreamRecord.decode({"d": fields["d"].decode()}) == DOC  # decode_responses=True


@pytest.mark.parametrize("fields, error", [
    ({b"x": b"1"}, KeyError),
    ({}, KeyError),
    ({b"d": b'{"family": "access", \xff'}, orjson.JSONDecodeError),
    ({b"d": b"[1, 2]"}, BadRecord),
    ({b"d": b'"text"'}, BadRecord),
])
def test_what_is_not_a_record(fields, error):
    with pytest.raises(error):
        StreamRecord.decode(fields)
