"""The CloudTrail service configuration file (Okera-compatible): found, used, and its errors verbatim."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from tests.aws.conftest import lake_event_ids, make_queue, put_log, trailhouse
from tests.conftest import event, log_key

VARIABLE = "TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION"


def _fails_with(location: str, reason: str, monkeypatch: pytest.MonkeyPatch, lake: str) -> None:
    monkeypatch.setenv(VARIABLE, location)
    done = trailhouse("ingest", "sqs://", "--lake", lake, check=False)
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert (
        first == f"Error: Failed to load CloudTrail service configuration file stored at {location}: {reason}"
    )


def test_service_config_errors_stop_start_up(
    s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = str(tmp_path / "lake")
    missing = tmp_path / "nope.json"
    _fails_with(str(missing), "no such file", monkeypatch, lake)
    broken = tmp_path / "broken.json"
    broken.write_text('"s3Region": "us-east-1", "sqsRegion": "us-east-1"')  # the template, unbraced
    _fails_with(str(broken), "not valid JSON (Extra data: line 1 column 11 (char 10))", monkeypatch, lake)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"s3Region": "us-east-1", "sqsRegion": "us-east-1"}))
    _fails_with(str(partial), "missing field 'sqsUrl'", monkeypatch, lake)
    _fails_with(f"s3://{s3_bucket}/config/cloudtrail.json", "no such file", monkeypatch, lake)
    unreadable = tmp_path / "unreadable.json"
    unreadable.write_bytes(b"\xff\xfe{")
    _fails_with(str(unreadable), "not UTF-8 text", monkeypatch, lake)


def test_service_config_from_s3_names_the_queue(s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = make_queue()
    config = {"s3Region": "us-east-1", "sqsRegion": "us-east-1", "sqsUrl": url}
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="config/cloudtrail.json", Body=json.dumps(config))
    key = log_key(stamp="20261121T0800Z")
    put_log(s3_bucket, key, [event(eventID=str(uuid.uuid4()))])
    boto3.client("sqs").send_message(
        QueueUrl=url, MessageBody=json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [key]})
    )
    monkeypatch.setenv(VARIABLE, f"s3://{s3_bucket}/config/cloudtrail.json")
    lake = f"s3://{s3_bucket}/lake"
    done = trailhouse("ingest", "sqs://", "--lake", lake)
    assert len(lake_event_ids(lake)) == 1, done.stderr
