from __future__ import annotations

import gzip
import json
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from tests.conftest import event, strip_nulls
from trailhouse.errors import ObjectReadError
from trailhouse.ingest import reader
from trailhouse.ingest.export import original_records
from trailhouse.ingest.reader import parse_object, parse_objects
from trailhouse.model.schema import CLOUDTRAIL_SCHEMA, EVENTS


def parse_bytes(body: bytes) -> Any:
    """The object's result with its rows, as one namespace."""
    result, rows = parse_object(body, EVENTS, "k")
    return SimpleNamespace(**vars(result), rows=rows)


def parse(records: list[Any]) -> Any:
    return parse_bytes(json.dumps({"Records": records}).encode())


def roundtrip(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    parsed = parse(records)
    return list(original_records(parsed.rows))


def test_reader_builds_typed_columns_in_the_table_schema() -> None:
    parsed = parse([event(eventName="RunInstances")])
    assert parsed.rows.schema == CLOUDTRAIL_SCHEMA
    row = parsed.rows.to_pylist()[0]
    assert row["eventName"] == "RunInstances"
    assert row["userIdentity"]["userName"] == "alice"
    assert row["recipientAccountId"] == "012345678901"  # leading zero kept: a string
    assert str(row["event_date"]) == "2026-11-01"
    assert json.loads(row["requestParameters"]) == {"maxResults": 5}
    assert row["_rescued_data"] is None
    assert not parsed.fallback


@pytest.mark.parametrize(
    ("fields", "rescued"),
    [
        ({"brandNewField": {"x": [1, 2]}}, "brandNewField"),  # unknown top-level field
        ({"readOnly": "true"}, "readOnly"),  # a string where a boolean is usual
        ({"userIdentity": "anonymous"}, "userIdentity"),  # a string where an object is usual
        ({"eventTime": "2026-11-01T10:00:00.123Z"}, "eventTime"),  # fractional seconds
        ({"resources": {"ARN": "arn:aws:s3:::b"}}, "resources"),  # an object where a list is usual
    ],
)
def test_reader_rescues_values_that_do_not_fit(fields: dict[str, Any], rescued: str) -> None:
    original = event(**fields)
    parsed = parse([original, event()])
    rows = parsed.rows.to_pylist()
    assert rescued in json.loads(rows[0]["_rescued_data"])
    assert rows[1]["_rescued_data"] is None
    assert strip_nulls(roundtrip([original])[0]) == strip_nulls(original)


@pytest.mark.parametrize(
    "fields",
    [
        {"eventName": 5},
        {"eventName": 5.5},
        {"eventName": 2**80},
        {"eventName": True},
        {"eventName": {"a": 1}},
        {"eventName": ["a"]},
        {"readOnly": 1},
        {"userIdentity": ["x"]},
        {"userIdentity": 3},
        {"userIdentity": {"type": 5}},
        {"userIdentity": {"sessionContext": {"attributes": {"mfaAuthenticated": False}}}},
        {"resources": ["arn:aws:s3:::b"]},
        {"resources": [None, {"ARN": 5}]},
        {"tlsDetails": {"tlsVersion": {"v": 1.3}}},
        {"eventName": 'h\u00e9llo \u4e2d \U0001f600 "quoted" \\ \n'},
    ],
)
def test_reader_exports_every_type_surprise_as_it_came(fields: dict[str, Any]) -> None:
    """Whatever the JSON reader makes of a value, export gives back the record as written."""
    records = [event(**fields), event()]
    assert strip_nulls(roundtrip(records)) == strip_nulls(records)


def test_reader_rescues_unknown_nested_keys_and_keeps_the_typed_value() -> None:
    identity = {**event()["userIdentity"], "futureField": {"deep": True}}
    original = event(userIdentity=identity)
    row = parse([original]).rows.to_pylist()[0]
    assert row["userIdentity"]["userName"] == "alice"  # still queryable
    assert json.loads(row["_rescued_data"])["userIdentity"]["futureField"] == {"deep": True}
    assert roundtrip([original])[0]["userIdentity"] == identity


def test_reader_keeps_integers_beyond_64_bits_exactly() -> None:
    huge = 2**70 + 1
    original = event(requestParameters={"n": huge}, surprise=huge)
    text = json.dumps({"Records": [original]}).encode()
    exported = list(original_records(parse_bytes(text).rows))[0]
    assert exported["requestParameters"]["n"] == huge
    assert exported["surprise"] == huge


def test_reader_takes_the_last_of_a_repeated_key_at_any_depth() -> None:
    """Like Python's json and msgspec: a repeated key neither fails the object nor its neighbours."""
    repeated = (
        b'{"eventVersion":"1.08","eventID":"e1","eventTime":"2026-11-01T10:00:00Z","eventName":"A",'
        b'"eventName":"B","userIdentity":{"type":"IAMUser","type":"Root"}}'
    )
    parsed = parse_bytes(b'{"Records":[' + repeated + b"," + json.dumps(event()).encode() + b"]}")
    first, second = parsed.rows.to_pylist()
    assert (first["eventName"], first["userIdentity"]["type"]) == ("B", "Root")
    assert second["eventName"] == event()["eventName"]
    assert list(original_records(parsed.rows))[0]["userIdentity"] == {"type": "Root"}


def test_reader_fallback_gives_the_same_rows_as_the_fast_path() -> None:
    plain = [event(eventID=f"e{i}", requestID="r") for i in range(3)]
    fast = parse(plain)
    slow = parse([*plain, event(readOnly="yes")])  # one bad type sends the file down the fallback
    assert not fast.fallback and slow.fallback
    assert (
        slow.rows.slice(0, 3)
        .drop_columns(["source_object"])
        .equals(fast.rows.drop_columns(["source_object"]))
    )


def test_reader_decodes_known_fields_as_structs_in_one_call_and_a_new_field_as_dicts() -> None:
    known = [msgspec.Raw(json.dumps(event(), indent=i).encode()) for i in (None, 2)]  # one pretty-printed
    records, lines, owners, counts = reader._decode_unit(EVENTS, [(0, 0, known)], {0: []})
    assert not isinstance(records[0], dict)  # the fast path: structs of raw values
    assert (lines, owners, counts) == (b"\n".join(known), [0], [2])
    unknown = [*known, msgspec.Raw(json.dumps(event(brandNewField=1)).encode())]
    records, _, _, counts = reader._decode_unit(EVENTS, [(0, 0, unknown)], {0: []})
    assert all(isinstance(r, dict) for r in records) and counts == [3]  # dicts keep the new field


def test_reader_sets_aside_records_that_are_not_objects() -> None:
    parsed = parse([event(), "garbage", 7])
    assert parsed.records == 3 and parsed.rows.num_rows == 1
    assert [(b.index, b.reason) for b in parsed.bad_records] == [
        (1, "record is not a JSON object"),
        (2, "record is not a JSON object"),
    ]


def test_reader_accepts_unknown_regions_and_missing_fields() -> None:
    original = {"eventTime": "2026-11-01T00:00:00Z", "awsRegion": "us-north-2r", "eventName": "X"}
    assert roundtrip([original]) == [original]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b'[{"eventName": "X"}]', 'a JSON array, not a CloudTrail log file ({"Records": [...]})'),
        (b'{"logEvents": []}', 'a JSON object without a "Records" list, not a CloudTrail log file'),
        (b'{"Records": 5}', 'a JSON object without a "Records" list, not a CloudTrail log file'),
    ],
)
def test_reader_skips_content_that_is_not_a_cloudtrail_file(body: bytes, reason: str) -> None:
    assert parse_bytes(body).skip_reason == reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"Records": [{"eventName": "X"}', "not valid JSON"),
        (b"hello", "not JSON: the content starts with b'h'"),
        (b"\x1f\x8b\x08garbage", "not a readable gzip file"),
    ],
)
def test_reader_refuses_unreadable_objects(body: bytes, message: str) -> None:
    with pytest.raises(ObjectReadError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_object(body, EVENTS, "k")


def test_reader_reads_every_member_of_a_multi_member_gzip() -> None:
    first = gzip.compress(b'{"Records": [{"eventName": "A", "eventTime": "2026-11-01T00:00:00Z"},')
    second = gzip.compress(b'{"eventName": "B", "eventTime": "2026-11-01T00:00:00Z"}]}')
    parsed = parse_bytes(first + second)
    assert parsed.rows.column("eventName").to_pylist() == ["A", "B"]


def test_reader_empty_records_list_gives_no_rows() -> None:
    parsed = parse([])
    assert parsed.records == 0 and parsed.rows is None and not parsed.skip_reason


def test_reader_group_rows_match_each_object_parsed_alone() -> None:
    files = [[event(eventID=f"a{i}") for i in range(3)], [event(readOnly="odd")], [], [event(eventID="c")]]
    bodies = [json.dumps({"Records": records}).encode() for records in files]
    bodies.insert(2, b"\x1f\x8bbroken")
    group = parse_objects([(EVENTS, f"obj{i}", body) for i, body in enumerate(bodies)])
    assert str(group.results[2]).startswith("not a readable gzip file")
    for index, body in enumerate(bodies):
        if index == 2:
            continue
        alone = parse_objects([(EVENTS, f"obj{index}", body)]).rows_of(0)
        together = group.rows_of(index)
        assert (alone is None and together is None) or alone.equals(together), index


def test_reader_splits_a_big_file_into_bounded_units(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "_UNIT_BYTES", 2000)
    records = [event(eventID=f"e{i}") for i in range(40)]
    parsed = parse(records)
    assert parsed.rows.num_rows == 40
    assert parsed.rows.column("eventID").to_pylist() == [f"e{i}" for i in range(40)]
    assert len(parsed.rows.column("eventID").chunks) > 5  # built unit by unit


def test_reader_object_with_only_bad_records_beside_good_ones() -> None:
    group = parse_objects(
        [
            (EVENTS, "good", json.dumps({"Records": [event()]}).encode()),
            (EVENTS, "bad", json.dumps({"Records": ["x", 1]}).encode()),
            (EVENTS, "good2", json.dumps({"Records": [event(), event()]}).encode()),
        ]
    )
    assert [len(r.bad_records) for r in group.results] == [0, 2, 0]
    assert group.rows_of(1) is None
    assert group.rows_of(2).column("source_object").to_pylist() == ["good2", "good2"]
