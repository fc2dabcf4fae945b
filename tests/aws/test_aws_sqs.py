"""Notification mode against the local endpoint: every message shape, acknowledgement after commit."""

from __future__ import annotations

import json
import uuid

import boto3

from tests.aws.conftest import lake_event_ids, ledger_rows, make_queue, put_log, queue_counts, trailhouse
from tests.conftest import event, log_key


def _logs(bucket: str, count: int, *, org: str = "") -> list[tuple[str, str]]:
    """`count` log files of 3 events each; (key, eventID of the first event)."""
    made = []
    for i in range(count):
        key = log_key(account=f"1111222233{i:02d}", stamp=f"20261121T10{i:02d}Z", org=org)
        records = [event(eventID=str(uuid.uuid4()), eventTime="2026-11-21T10:00:00Z") for _ in range(3)]
        put_log(bucket, key, records)
        made.append((key, records[0]["eventID"]))
    return made


def _sns_envelope(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
            "Message": message,
        }
    )


def _s3_event(bucket: str, key: str) -> str:
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/"), "size": 1}},
    }
    return json.dumps({"Records": [record]})


def test_sqs_ingests_every_notification_shape(s3_bucket: str) -> None:
    logs = _logs(s3_bucket, 6)
    url = make_queue()
    sqs = boto3.client("sqs")
    cloudtrail = json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [logs[0][0], logs[1][0]]})
    eventbridge = json.dumps(
        {
            "version": "0",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {"bucket": {"name": s3_bucket}, "object": {"key": logs[5][0], "size": 1}},
        }
    )
    bodies = [
        _sns_envelope(cloudtrail),  # CloudTrail -> SNS -> SQS
        json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [logs[2][0]]}),  # raw message delivery
        _s3_event(s3_bucket, logs[3][0]),  # S3 -> SQS
        _sns_envelope(_s3_event(s3_bucket, logs[4][0])),  # S3 -> SNS -> SQS
        eventbridge,
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": s3_bucket}),
        _sns_envelope("CloudTrail validation message."),
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    lake = f"s3://{s3_bucket}/lake"
    done = trailhouse("ingest", url, "--lake", lake, "--workers", "1")
    assert sorted(lake_event_ids(lake)).count(logs[0][1]) == 1
    assert len(lake_event_ids(lake)) == 18
    assert queue_counts(url) == (0, 0)
    assert f"Polled 7 sqs messages from {url}" in done.stderr or "sqs messages from" in done.stderr
    assert f"Downloaded log file {logs[3][0]} from {s3_bucket}" in done.stderr
    again = trailhouse("ingest", url, "--lake", lake)
    assert "objects seen 0" in again.stdout
    assert len(ledger_rows(lake)) == 6
