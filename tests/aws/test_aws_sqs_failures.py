"""Notification mode when things go wrong: crashes, vanished objects, poison messages, failed polls."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from tests.aws.conftest import lake_event_ids, ledger_rows, make_queue, put_log, queue_counts, trailhouse
from tests.conftest import event, log_key

WORKER = str(Path(__file__).with_name("worker.py"))


def _announce(bucket: str, count: int, url: str, *, stamp_hour: str = "10") -> list[str]:
    """`count` log files of 2 events, each announced by its own CloudTrail notification."""
    sqs = boto3.client("sqs")
    ids = []
    for i in range(count):
        key = log_key(stamp=f"20261121T{stamp_hour}{i:02d}Z")
        records = [event(eventID=str(uuid.uuid4())) for _ in range(2)]
        put_log(bucket, key, records)
        ids += [r["eventID"] for r in records]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}))
    return ids


def _worker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, WORKER, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_sqs_object_deleted_before_read_is_a_recorded_skip(s3_bucket: str) -> None:
    url = make_queue()
    ids = _announce(s3_bucket, 2, url)
    gone = log_key(stamp="20261121T0900Z")
    boto3.client("sqs").send_message(
        QueueUrl=url, MessageBody=json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [gone]})
    )
    lake = f"s3://{s3_bucket}/lake"
    trailhouse("ingest", url, "--lake", lake)
    assert sorted(lake_event_ids(lake)) == sorted(ids)
    skipped = [r for r in ledger_rows(lake) if r["status"] == "skipped"]
    assert [(r["reason"], r["source_object"]) for r in skipped] == [("object no longer exists", gone)]
    assert queue_counts(url) == (0, 0)


def test_sqs_poison_message_is_quarantined_and_left_to_redrive(s3_bucket: str) -> None:
    dead = make_queue()
    dead_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
    url = make_queue(RedrivePolicy=json.dumps(redrive), VisibilityTimeout="1")
    ids = _announce(s3_bucket, 1, url)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="this is not a notification")
    lake = f"s3://{s3_bucket}/lake"
    done = trailhouse("ingest", url, "--lake", lake, "--max-receives", "2")
    assert sorted(lake_event_ids(lake)) == sorted(ids)
    quarantined = [r for r in ledger_rows(lake) if r["status"] == "quarantined"]
    assert len(quarantined) == 1, done.stderr
    assert "received 2 times without success" in quarantined[0]["reason"]
    assert "this is not a notification" in quarantined[0]["reason"]
    # Left in the queue: the redrive policy moves it to the dead-letter queue after 3 receives.
    time.sleep(1.5)
    trailhouse("ingest", url, "--lake", lake, "--max-receives", "2")
    time.sleep(1.5)
    trailhouse("ingest", url, "--lake", lake, "--max-receives", "2")
    assert queue_counts(dead)[0] == 1
    assert len([r for r in ledger_rows(lake) if r["status"] == "quarantined"]) == 1


def test_sqs_killed_after_commit_before_delete_duplicates_nothing(s3_bucket: str) -> None:
    url = make_queue()
    ids = _announce(s3_bucket, 4, url)
    lake = f"s3://{s3_bucket}/lake"
    killed = _worker(url, lake, "kill-after-commit", "2")
    assert killed.returncode == -9, killed.stderr
    assert sorted(lake_event_ids(lake)) == sorted(ids)  # committed ...
    assert sum(queue_counts(url)) == 4  # ... but not acknowledged
    time.sleep(2.5)
    done = trailhouse("ingest", url, "--lake", lake)
    assert "already in the lake 4" in done.stdout, done.stdout
    assert sorted(lake_event_ids(lake)) == sorted(ids)
    assert queue_counts(url) == (0, 0)


def test_sqs_killed_before_commit_loses_nothing(s3_bucket: str) -> None:
    url = make_queue()
    ids = _announce(s3_bucket, 4, url)
    lake = f"s3://{s3_bucket}/lake"
    killed = _worker(url, lake, "kill-before-commit", "2")
    assert killed.returncode == -9, killed.stderr
    assert lake_event_ids(lake) == []
    time.sleep(2.5)
    trailhouse("ingest", url, "--lake", lake)
    assert sorted(lake_event_ids(lake)) == sorted(ids)
    assert queue_counts(url) == (0, 0)


def test_sqs_failed_poll_backs_off_with_a_cap(s3_bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    from trailhouse.sources.sqs import SqsSource

    source = SqsSource(make_queue(), follow=True, backoff_cap=2.0)
    calls = 0

    def unreachable(**kwargs: object) -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls == 4:
            source.stop.set()
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    source._sqs = type("Broken", (), {"receive_message": staticmethod(unreachable)})()
    source.stop.wait = lambda timeout=None: source.stop.is_set()  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="trailhouse.sources"):
        assert list(source.objects()) == []
        source._receiver.join(timeout=10)
    waits = [r.getMessage().split(" (")[0] for r in caplog.records if "failed to poll" in r.getMessage()]
    assert waits == [
        "failed to poll SQS queue; waiting 1s before re-attempting",
        "failed to poll SQS queue; waiting 2s before re-attempting",
        "failed to poll SQS queue; waiting 2s before re-attempting",
        "failed to poll SQS queue; waiting 2s before re-attempting",
    ]
    source.close()
