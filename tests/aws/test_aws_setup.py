"""`trailhouse setup notifications` on the local endpoint, then a delivery going all the way through."""

from __future__ import annotations

import json
import time
import uuid

import boto3

from tests.aws.conftest import lake_event_ids, put_log, queue_counts, trailhouse
from tests.conftest import event, log_key


def test_setup_notifications_dry_run_creates_nothing(s3_bucket: str) -> None:
    done = trailhouse("setup", "notifications", "--bucket", s3_bucket, "--dry-run")
    assert "Plan (dry run, nothing created):" in done.stdout
    assert "would create  SNS topic" in done.stdout
    assert f"trailhouse ingest sqs://trailhouse-{s3_bucket} --follow" in done.stdout
    queues = boto3.client("sqs").list_queues(QueueNamePrefix=f"trailhouse-{s3_bucket}")
    assert "QueueUrls" not in queues
    assert "TopicConfigurations" not in boto3.client("s3").get_bucket_notification_configuration(
        Bucket=s3_bucket
    )


def test_setup_notifications_end_to_end_and_idempotent(s3_bucket: str) -> None:
    lake = f"s3://{s3_bucket}/lake"
    setup = ("setup", "notifications", "--bucket", s3_bucket, "--prefix", "AWSLogs/")
    first = trailhouse(*setup, "--lake", lake)
    assert first.stdout.count("created") == 5, first.stdout
    assert f"trailhouse ingest sqs://trailhouse-{s3_bucket} --follow --lake {lake}" in first.stdout
    second = trailhouse(*setup)
    assert "created" not in second.stdout, second.stdout
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"trailhouse-{s3_bucket}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 6
    assert "sns.amazonaws.com" in attributes["Policy"]
    topics = boto3.client("s3").get_bucket_notification_configuration(Bucket=s3_bucket)["TopicConfigurations"]
    assert len(topics) == 1

    key = log_key(stamp="20261121T1105Z")
    put_log(s3_bucket, key, [event(eventID=str(uuid.uuid4())) for _ in range(4)])
    put_log(s3_bucket, "elsewhere/readme.json", [])  # outside the prefix: no notification
    deadline = time.monotonic() + 20
    while queue_counts(url)[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    done = trailhouse("ingest", f"sqs://trailhouse-{s3_bucket}", "--lake", lake, "--workers", "1")
    assert len(lake_event_ids(lake)) == 4, done.stderr
    assert queue_counts(url) == (0, 0)
