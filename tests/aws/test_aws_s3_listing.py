"""Listing mode: discovery of organisations, accounts and regions, --since, look-back, enqueue."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import boto3

from tests.aws.conftest import lake_event_ids, ledger_rows, make_queue, put_log, trailhouse
from tests.conftest import event, log_key
from trailhouse.errors import ObjectReadError
from trailhouse.sources.base import ObjectRef
from trailhouse.sources.s3 import S3Source

WORKER = str(Path(__file__).with_name("worker.py"))


def _put(bucket: str, key: str, n: int = 2) -> list[str]:
    records = [event(eventID=str(uuid.uuid4())) for _ in range(n)]
    put_log(bucket, key, records)
    return [r["eventID"] for r in records]


def _layout(bucket: str, prefix: str = "") -> dict[str, list[str]]:
    keys = {
        "plain": log_key(account="111111111111", region="us-east-1", stamp="20261120T1000Z"),
        "other-region": log_key(account="111111111111", region="eu-west-1", stamp="20261121T1000Z"),
        "org-a": log_key(account="222222222222", region="us-east-1", stamp="20261119T0900Z", org="o-abc123"),
        "org-b": log_key(account="333333333333", region="ap-south-1", stamp="20261121T2300Z", org="o-abc123"),
    }
    return {name: _put(bucket, prefix + key) for name, key in keys.items()}


def test_s3_listing_discovers_orgs_accounts_and_regions(s3_bucket: str) -> None:
    made = _layout(s3_bucket, "trails/main/")
    boto3.client("s3").put_object(
        Bucket=s3_bucket,
        Key="trails/main/AWSLogs/111111111111/Config/us-east-1/2026/11/20/x.json.gz",
        Body=b"x",
    )
    source = S3Source(f"s3://{s3_bucket}/trails")
    streams = source.streams()
    assert [s.split("AWSLogs/")[1] for s in streams] == [
        "111111111111/CloudTrail/eu-west-1/",
        "111111111111/CloudTrail/us-east-1/",
        "o-abc123/222222222222/CloudTrail/us-east-1/",
        "o-abc123/333333333333/CloudTrail/ap-south-1/",
    ]
    keys = [ref.key for ref in source.listing()]
    assert [k[k.index("CloudTrail_") :][:40] for k in keys] == sorted(
        (k[k.index("CloudTrail_") :][:40] for k in keys), key=lambda k: k.split("_")[2][:8]
    )  # oldest day first
    assert len(keys) == 4
    source.close()
    lake = f"s3://{s3_bucket}/lake"
    done = trailhouse("ingest", f"s3://{s3_bucket}/trails", "--lake", lake)
    assert sorted(lake_event_ids(lake)) == sorted(i for ids in made.values() for i in ids), done.stderr
    assert "Downloaded log file trails/main/AWSLogs/" in done.stderr
    again = trailhouse("ingest", f"s3://{s3_bucket}/trails", "--lake", lake)
    assert "already in the lake 4" in again.stdout


def test_s3_listing_since_limits_the_backfill(s3_bucket: str) -> None:
    made = _layout(s3_bucket)
    lake = f"s3://{s3_bucket}/lake"
    trailhouse("ingest", f"s3://{s3_bucket}", "--since", "2026-11-21", "--lake", lake)
    assert sorted(lake_event_ids(lake)) == sorted(made["other-region"] + made["org-b"])
    assert [ref.key for ref in S3Source(f"s3://{s3_bucket}", since=date(2026, 11, 22)).listing()] == []


def test_s3_listing_of_a_prefix_inside_a_stream(s3_bucket: str) -> None:
    _layout(s3_bucket)
    inside = S3Source(f"s3://{s3_bucket}/AWSLogs/o-abc123/")
    assert len(list(inside.listing())) == 2
    day = S3Source(f"s3://{s3_bucket}/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/")
    assert len(list(day.listing())) == 1


def test_s3_object_deleted_before_read(s3_bucket: str) -> None:
    key = log_key(stamp="20261121T1000Z")
    _put(s3_bucket, key)
    source = S3Source(f"s3://{s3_bucket}")
    (ref,) = list(source.listing())
    boto3.client("s3").delete_object(Bucket=s3_bucket, Key=key)
    try:
        source.read(ref)
    except ObjectReadError as error:
        assert str(error) == "object no longer exists"
    else:
        raise AssertionError("read a deleted object")
    missing = ObjectRef(f"s3://{s3_bucket}/nope.json.gz", "nope.json.gz")
    try:
        source.read(missing)
    except ObjectReadError as error:
        assert str(error) == "object no longer exists"
    source.close()


def test_s3_follow_finds_a_late_key_that_sorts_before_the_newest(s3_bucket: str) -> None:
    today = date.today().strftime("%Y%m%d")
    newest = log_key(stamp=f"{today}T1200Z")
    ids = _put(s3_bucket, newest)
    lake = f"s3://{s3_bucket}/lake"
    worker = subprocess.Popen(
        [sys.executable, WORKER, f"s3://{s3_bucket}", lake, "normal", "120", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: len(lake_event_ids(lake)) == 2, 30, worker)
        late = log_key(stamp=f"{today}T1155Z")  # delivered late, sorts before the newest key seen
        assert late < newest
        ids += _put(s3_bucket, late)
        _wait_for(lambda: len(lake_event_ids(lake)) == 4, 30, worker)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert sorted(lake_event_ids(lake)) == sorted(ids)
    assert len(ledger_rows(lake)) == 2


def test_s3_enqueue_sends_every_object_once(s3_bucket: str) -> None:
    _layout(s3_bucket)
    url = make_queue()
    done = trailhouse("ingest", f"s3://{s3_bucket}", "--enqueue", url)
    assert "sent 4 objects" in done.stdout
    lake = f"s3://{s3_bucket}/lake"
    trailhouse("ingest", url, "--lake", lake)
    assert len(lake_event_ids(lake)) == 8


def _wait_for(condition: Callable[[], bool], seconds: float, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.kill()
            raise AssertionError(f"timed out; the worker said:\n{worker.communicate()[1][-3000:]}")
        time.sleep(0.3)


def test_s3_listing_backlog_counts_what_is_not_in_the_lake(s3_bucket: str) -> None:
    from trailhouse.sources.backlog import listing_backlog

    _layout(s3_bucket)
    done = {r["source_object"] for r in ledger_rows(f"s3://{s3_bucket}/lake")}
    before = listing_backlog(f"s3://{s3_bucket}", done.__contains__)
    assert before["objects_outstanding"] == 4 and before["bytes_outstanding"] > 0
    trailhouse("ingest", f"s3://{s3_bucket}", "--since", "2026-11-21", "--lake", f"s3://{s3_bucket}/lake")
    done = {r["source_object"] for r in ledger_rows(f"s3://{s3_bucket}/lake")}
    assert listing_backlog(f"s3://{s3_bucket}", done.__contains__)["objects_outstanding"] == 2
