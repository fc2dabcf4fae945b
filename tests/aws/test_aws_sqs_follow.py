"""--follow: latency, SIGTERM, background compaction, several workers on one queue (one SIGKILLed
midway), backlog in status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3

from tests.aws.conftest import (
    TRAILHOUSE,
    lake_event_ids,
    ledger_rows,
    make_queue,
    put_log,
    queue_counts,
    trailhouse,
)
from tests.conftest import event, log_key
from trailhouse.lake import Lake
from trailhouse.query import derived

WORKER = str(Path(__file__).with_name("worker.py"))


def _wait_for(condition: Callable[[], bool], seconds: float, *workers: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds or any(w.poll() not in (None, -9) for w in workers):
            for worker in workers:
                worker.kill()
            said = "\n".join(w.communicate()[1][-2000:] for w in workers)
            raise AssertionError(f"timed out; the workers said:\n{said}")
        time.sleep(0.2)
    return time.monotonic() - started


def _log(bucket: str, i: int, n: int = 3) -> tuple[str, list[str]]:
    key = log_key(account=f"4444{i:08d}", stamp=f"20261121T{i // 60:02d}{i % 60:02d}Z")
    records = [event(eventID=str(uuid.uuid4()), recipientAccountId=f"4444{i:08d}") for _ in range(n)]
    put_log(bucket, key, records)
    return key, [r["eventID"] for r in records]


def _compacted(lake: str) -> bool:
    files = Lake(lake).files("cloudtrail") or []
    return bool(files) and all(derived.holds_current(f) for f in files)


def test_sqs_follow_latency_and_sigterm(s3_bucket: str) -> None:
    url = make_queue()
    lake = f"s3://{s3_bucket}/lake"
    worker = subprocess.Popen(
        [TRAILHOUSE, "ingest", url, "--follow", "--workers", "1", "--compact-every", "1s", "--lake", lake],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # started and polling
        key, ids = _log(s3_bucket, 1)
        boto3.client("sqs").send_message(
            QueueUrl=url, MessageBody=json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [key]})
        )
        latency = _wait_for(lambda: len(lake_event_ids(lake)) == 3, 30, worker)
        assert latency < 10
        # the background compactor rewrites the day with the derived columns stored (tests/lifecycle)
        _wait_for(lambda: _compacted(lake), 30, worker)
        key2, ids2 = _log(s3_bucket, 2)
        boto3.client("sqs").send_message(
            QueueUrl=url, MessageBody=json.dumps({"s3Bucket": s3_bucket, "s3ObjectKey": [key2]})
        )
        time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert f"Polled 1 sqs messages from {url}" in err
    assert "Compacted cloudtrail (days rewritten: 1, files 1 -> 1)" in err
    assert sorted(lake_event_ids(lake)) == sorted(ids + ids2)  # drained what it held at SIGTERM
    assert queue_counts(url) == (0, 0)


def test_sqs_three_workers_one_killed_midway_table_is_exact(s3_bucket: str) -> None:
    files = 60
    expected: list[str] = []
    for i in range(files):
        expected += _log(s3_bucket, i)[1]
    url = make_queue()
    trailhouse("ingest", f"s3://{s3_bucket}", "--enqueue", url)
    lake = f"s3://{s3_bucket}/lake"
    workers = [
        subprocess.Popen(
            [sys.executable, WORKER, url, lake, "normal", "3", "--follow"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]

    def ingested() -> int:
        return len({r["source_object"] for r in ledger_rows(lake) if r["status"] == "ingested"})

    try:
        _wait_for(lambda: ingested() >= files // 4, 120, *workers)
        workers[0].send_signal(signal.SIGKILL)
        _wait_for(lambda: ingested() == files and sum(queue_counts(url)) == 0, 180, *workers)
    finally:
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.communicate(timeout=60)
    assert workers[0].returncode == -9
    assert [w.returncode for w in workers[1:]] == [0, 0]
    found = lake_event_ids(lake)
    assert len(found) == len(expected)
    assert sorted(found) == sorted(expected)


def test_status_shows_queue_backlog(s3_bucket: str) -> None:
    url = make_queue()
    key, _ = _log(s3_bucket, 1)
    lake = f"s3://{s3_bucket}/lake"
    trailhouse("ingest", f"s3://{s3_bucket}", "--lake", lake)
    for _ in range(3):
        boto3.client("sqs").send_message(
            QueueUrl=url, MessageBody=json.dumps({"s3Bucket": "b", "s3ObjectKey": [key]})
        )
    done = trailhouse("status", "--lake", lake, "--queue", url, "--json")
    backlog = json.loads(done.stdout)["backlog"]
    assert backlog["queue"] == url
    assert backlog["messages"] == 3
    assert backlog["in_flight"] == 0
    assert "oldest_age_s" in backlog
