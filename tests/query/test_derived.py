"""Derived columns (query/derived.py): the same values whether compaction stored them or the view
computes them, never part of the Delta schema or of exported records."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.query.lakes import ACCOUNT, build_lake, record, to_row
from trailhouse import lifecycle
from trailhouse.ingest.export import original_records
from trailhouse.lake import Lake
from trailhouse.lake_files import TableStream
from trailhouse.model.schema import CLOUDTRAIL_SCHEMA
from trailhouse.query import derived
from trailhouse.query.engine import Engine

BUCKET_ARN = "arn:aws:s3:::logs-bucket"
OBJECT_ARN = "arn:aws:s3:::logs-bucket/year=2026/a.json"
COPY_ARN = "arn:aws:s3:::copies/a.json"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deployer"
COLUMNS = ", ".join(derived.names("cloudtrail"))


def _records() -> list[dict[str, Any]]:
    return [
        record(
            eventSource="s3.amazonaws.com",
            eventName="PutObject",
            eventCategory="Data",
            requestParameters={"bucketName": "logs-bucket", "key": "year=2026/a.json"},
            additionalEventData={"bytesTransferredIn": 2048},
            resources=[
                {"type": "AWS::S3::Object", "ARN": OBJECT_ARN},
                {"type": "AWS::S3::Bucket", "ARN": BUCKET_ARN, "accountId": ACCOUNT},
            ],
        ),
        # an odd S3 call: a key that is not a string, bytes that are not a number
        record(
            eventSource="s3.amazonaws.com",
            eventName="PutObject",
            requestParameters={"bucketName": "logs-bucket", "key": {"odd": 1}},
            additionalEventData={"bytesTransferredIn": "lots"},
        ),
        # not S3: its bucketName is no S3 bucket; a resource without an ARN
        record(
            eventSource="sts.amazonaws.com",
            eventName="AssumeRole",
            userIdentity={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
            requestParameters={"bucketName": "not-s3"},
            resources=[{"type": "AWS::IAM::Role", "ARN": ROLE_ARN}, {"type": "AWS::KMS::Key"}],
        ),
        record(eventTime="2026-11-02T08:00:00Z", userIdentity={"type": "AWSAccount"}),
        # a copy between buckets: two objects and two buckets
        record(
            eventSource="s3.amazonaws.com",
            eventName="CopyObject",
            resources=[
                {"type": "AWS::S3::Object", "ARN": OBJECT_ARN},
                {"type": "AWS::S3::Bucket", "ARN": BUCKET_ARN},
                {"type": "AWS::S3::Object", "ARN": COPY_ARN},
                {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::copies"},
            ],
        ),
        # Lambda: the function named in the request, else the first resource
        record(
            eventSource="lambda.amazonaws.com",
            eventName="Invoke",
            requestParameters={"functionName": "resize"},
            resources=[{"type": "AWS::Lambda::Function", "ARN": FUNCTION_ARN}],
        ),
        record(
            eventSource="lambda.amazonaws.com",
            eventName="Invoke",
            resources=[{"type": "AWS::Lambda::Function", "ARN": FUNCTION_ARN}],
        ),
    ]


def _derived(lake: Lake) -> list[dict[str, Any]]:
    return Engine(lake).query(f"SELECT eventID, {COLUMNS} FROM cloudtrail ORDER BY eventID").to_pylist()


def _export(lake: Lake) -> list[dict[str, Any]]:
    rows = Engine(lake).query("SELECT * FROM cloudtrail ORDER BY eventID")
    return list(original_records(rows))


def test_derived_values_read_what_the_record_says(tmp_path: Path) -> None:
    lake = build_lake(tmp_path, _records())
    put, odd, assume, last, copy, named, unnamed = _derived(lake)
    assert (put["principal"], put["s3_bucket"], put["s3_key"], put["s3_bytes_in"]) == (
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        "logs-bucket",
        "year=2026/a.json",
        2048.0,
    )
    assert (put["s3_prefix"], odd["s3_prefix"], assume["s3_prefix"]) == ("year=2026", "", None)
    assert (put["resource_arn"], put["resource_type"]) == (BUCKET_ARN, "AWS::S3::Bucket")
    assert (put["more_resources"], put["more_resource_count"]) == (None, None)
    assert (odd["resource_arn"], odd["object_slot"], odd["more_resources"]) == (None, None, None)
    assert (odd["s3_key"], odd["s3_bytes_in"]) == ('{"odd":1}', None)
    assert (assume["principal"], assume["s3_bucket"], assume["object_slot"]) == (
        "lambda.amazonaws.com",
        None,
        None,
    )
    # the resource without an ARN is left out
    assert (assume["resource_arn"], assume["resource_type"]) == (ROLE_ARN, "AWS::IAM::Role")
    assert (assume["more_resources"], assume["more_resource_count"]) == (None, None)
    # the first object's hash slot, as general-operations computes it where it is not stored
    expected_slot = Engine(lake).query(f"SELECT (hash('{OBJECT_ARN}') % {derived.SLOTS})::USMALLINT AS s")
    assert put["object_slot"] == copy["object_slot"] == expected_slot.column("s")[0].as_py()
    # the entries after the first of each kind, whole
    assert (copy["resource_arn"], copy["more_resource_count"]) == (BUCKET_ARN, 2)
    assert copy["more_resources"] == [
        {"ARN": "arn:aws:s3:::copies", "type": "AWS::S3::Bucket"},
        {"ARN": COPY_ARN, "type": "AWS::S3::Object"},
    ]
    assert (named["lambda_function"], unnamed["lambda_function"], put["lambda_function"]) == (
        "resize",
        FUNCTION_ARN,
        None,
    )
    assert last["principal"] == "AWSAccount"  # no ARN, service, user name or id: the type


def test_compaction_stores_the_same_values_the_view_computes_and_changes_no_record(tmp_path: Path) -> None:
    lake = build_lake(tmp_path, _records())
    build_lake(tmp_path, [record(eventTime="2026-11-02T09:00:00Z")])  # a second file in one day
    computed, exported = _derived(lake), _export(lake)
    assert not any(derived.holds_current(f) for f in lake.files("cloudtrail") or [])

    lifecycle.compact(lake)
    files = lake.files("cloudtrail") or []
    assert files and all(derived.holds_current(f) for f in files)
    # stored under a prefix: no column a query of a version without them could bind to
    physical = set(pq.read_schema(files[0].removeprefix("file://")).names)
    assert {derived.STORED_PREFIX + name for name in derived.names("cloudtrail")} <= physical
    assert not set(derived.names("cloudtrail")) & physical
    assert _derived(lake) == computed
    assert _export(lake) == exported
    dataset = lake.dataset("cloudtrail")
    assert dataset is not None and not set(derived.names("cloudtrail")) & set(dataset.schema.names)
    # a partition already compacted with the current derived columns is left alone
    assert [r.partitions for r in lifecycle.compact(lake)] == [()]


def test_a_lake_partly_compacted_answers_from_both_kinds_of_file(tmp_path: Path) -> None:
    lake = build_lake(tmp_path, _records())
    computed = _derived(lake)
    lake.rewrite_sorted("cloudtrail", partition="2026-11-01", sort_by=("eventName",), rows_per_file=1000)
    held = [derived.holds_current(f) for f in lake.files("cloudtrail") or []]
    assert sorted(held) == [False, True]
    assert _derived(lake) == computed


def test_values_stored_under_another_mark_are_computed_afresh(tmp_path: Path) -> None:
    # A file from an earlier derived set (or DuckDB version) whose stored values are now wrong.
    lake = build_lake(tmp_path, [record()])
    expected = _derived(lake)
    rows = pa.Table.from_pylist([to_row(record(eventID=expected[0]["eventID"]))], schema=CLOUDTRAIL_SCHEMA)
    stale = rows.append_column("_derived_principal", pa.array(["stale"]))
    stale = stale.append_column("_derived_s3_bucket", pa.array(["stale"]))
    schema = stale.schema
    stream = TableStream(lake.uri("cloudtrail"), schema, "event_date", tag="d0-duckdb100")
    stream.write(stale)
    lake.commit_files("cloudtrail", stream.close(), CLOUDTRAIL_SCHEMA, partition="event_date")

    got = _derived(lake)
    assert len(got) == 2 and all(row == expected[0] for row in got)
    assert [p.without_derived for p in lifecycle.partitions(lake, "cloudtrail")] == [2]


def test_general_operations_slots_the_objects_of_other_files_as_compaction_does() -> None:
    # A slot's count bounds its objects' only if every file puts an object in the same slot.
    report = resources.files("trailhouse.query") / "reports" / "general_operations.sql"
    assert f"(hash(arn) % {derived.SLOTS})::USMALLINT" in report.read_text()
