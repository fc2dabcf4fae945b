"""Benchmark notification mode against a local endpoint, beside the folder ingest of the same files.

    .venv/bin/python bench/bench_sqs.py                      # 1 day, 3 accounts x 2 regions
    .venv/bin/python bench/bench_sqs.py --days 2 --workers 1

Starts moto's server on 127.0.0.1, writes a sample bucket (5-minute deliveries), and measures:
  folder   `ingest(LocalSource)` into a local lake (the core's baseline on the same files)
  sqs      one CloudTrail notification per file, drained by `ingest(SqsSource)` into a local lake
  sqs->s3  the same into a lake on the local S3 endpoint
  latency  --follow at low load: message sent -> rows queryable, median and worst of 5
Figures are files/s and MB of JSON/s; the SQS rows include the S3 downloads and the deletes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MB = 1_000_000


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    os.environ.update(env)
    os.environ["AWS_ENDPOINT_URL"] = url
    return server, url


def _upload(root: Path, bucket: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json.gz") if "Digest" not in str(p))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.upload_file(str(root / k), bucket, k), keys))
    return keys


def _announce(bucket: str, keys: list[str]) -> str:
    import boto3

    sqs = boto3.client("sqs")
    url = str(sqs.create_queue(QueueName=f"bench-{time.monotonic_ns()}")["QueueUrl"])
    for start in range(0, len(keys), 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]})}
            for i, key in enumerate(keys[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def _row(label: str, files: int, nbytes: int, seconds: float) -> None:
    print(
        f"  {label:<8} {files:>6} files in {seconds:6.1f} s: {files / seconds:7.1f} files/s, "
        f"{nbytes / MB / seconds:6.1f} MB JSON/s"
    )


def _keep_up(bucket: str, keys: list[str], lake_root: str, rate: float, workers: int, flush: float) -> None:
    """A producer announces one file every 1/rate s; the follow-mode consumer must keep pace."""
    from trailhouse.ingest import pipeline
    from trailhouse.lake import Lake
    from trailhouse.sources.s3 import client
    from trailhouse.sources.sqs import SqsSource

    sqs = client("sqs")
    url = str(sqs.create_queue(QueueName=f"bench-keep-up-{time.monotonic_ns()}")["QueueUrl"])
    source = SqsSource(url, follow=True, wait_seconds=1, flush_seconds=flush)
    committed = 0
    original = source.committed

    def counting(refs: list[object]) -> None:
        nonlocal committed
        original(refs)  # type: ignore[arg-type]
        committed += len(refs)
        if committed >= len(keys):
            source.stop.set()

    source.committed = counting  # type: ignore[method-assign,assignment]
    depths: list[int] = []

    def produce() -> None:
        started = time.monotonic()
        for i in range(0, len(keys), 5):
            due = started + i / rate
            time.sleep(max(0.0, due - time.monotonic()))
            entries = [
                {"Id": str(j), "MessageBody": json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]})}
                for j, key in enumerate(keys[i : i + 5])
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
            if i % 50 == 0:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                depths.append(int(attributes["ApproximateNumberOfMessages"]))

    producer = threading.Thread(target=produce)
    started = time.perf_counter()
    producer.start()
    result = pipeline.ingest([source], Lake(lake_root), pipeline.IngestOptions(workers=workers))
    elapsed = time.perf_counter() - started
    producer.join()
    source.close()
    print(
        f"  keep-up  {result.objects_seen:>6} files offered at {rate:.0f}/s, "
        f"all committed in {elapsed:6.1f} s: "
        f"{result.objects_seen / elapsed:7.1f} files/s (offered load takes {len(keys) / rate:.1f} s), "
        f"queue depth max {max(depths or [0])}, {result.commits} commits"
    )


def _version(lake: object) -> int:
    version = lake.version("ledger")  # type: ignore[attr-defined]
    return -1 if version is None else int(version)


def _latency(bucket: str, keys: list[str], lake_root: str, workers: int) -> list[float]:
    import boto3

    from trailhouse.ingest import pipeline
    from trailhouse.lake import Lake
    from trailhouse.sources.sqs import SqsSource

    sqs = boto3.client("sqs")
    url = str(sqs.create_queue(QueueName=f"bench-latency-{time.monotonic_ns()}")["QueueUrl"])
    source = SqsSource(url, follow=True, wait_seconds=5)
    options = pipeline.IngestOptions(workers=workers)
    runner = threading.Thread(target=pipeline.ingest, args=([source], Lake(lake_root), options))
    runner.start()
    delays = []
    lake = Lake(lake_root)
    try:
        for key in keys:
            before = _version(lake)
            sent = time.monotonic()
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}))
            while _version(lake) <= before:
                if time.monotonic() - sent > 60:
                    raise RuntimeError("no commit within 60 s")
                time.sleep(0.05)
            delays.append(time.monotonic() - sent)
            time.sleep(1)
    finally:
        source.stop.set()
        runner.join()
        source.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--workers", type=int, default=0, help="parser processes (0 = one per core)")
    parser.add_argument("--rate", type=float, default=50.0, help="keep-up: files announced per second")
    parser.add_argument("--lake", choices=("local", "s3", "both"), default="both", help="keep-up lakes")
    parser.add_argument("--flush", type=float, default=3.0, help="keep-up: SqsSource flush_seconds")
    parser.add_argument("--drain", action="store_true", help="also drain a pre-filled queue (slow on moto)")
    args = parser.parse_args()

    from trailhouse.ingest import pipeline
    from trailhouse.lake import Lake
    from trailhouse.sample import SampleSpec, write_sample
    from trailhouse.sources.local import LocalSource
    from trailhouse.sources.sqs import SqsSource

    server, endpoint = _start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sqs-") as scratch:
            root = Path(scratch) / "bucket"
            spec = SampleSpec(
                root=root,
                accounts=args.accounts,
                regions=args.regions,
                days=args.days,
                events=args.events,
                digests=False,
            )
            sample = write_sample(spec, force=True)
            options = pipeline.IngestOptions(workers=args.workers)
            print(f"sample: {sample.files} files, {sample.raw_bytes / MB:.0f} MB JSON; moto at {endpoint}")

            started = time.perf_counter()
            folder = pipeline.ingest([LocalSource(root)], Lake(Path(scratch) / "lake-folder"), options)
            _row("folder", folder.objects_seen, folder.bytes, time.perf_counter() - started)

            keys = _upload(root, "bench")
            for lake_root in (str(Path(scratch) / "lake-keep-up"), "s3://bench/lake-keep-up"):
                if args.lake in ("both", "s3" if lake_root.startswith("s3://") else "local"):
                    _keep_up("bench", keys, lake_root, args.rate, args.workers, args.flush)
            drains = (("sqs", str(Path(scratch) / "lake-sqs")), ("sqs->s3", "s3://bench/lake"))
            for label, lake_root in drains if args.drain else ():
                source = SqsSource(_announce("bench", keys))
                started = time.perf_counter()
                try:
                    result = pipeline.ingest([source], Lake(lake_root), options)
                finally:
                    source.close()
                _row(label, result.objects_seen, result.bytes, time.perf_counter() - started)
                assert result.objects_seen == len(keys), (result.objects_seen, len(keys))

            delays = _latency("bench", keys[:5], str(Path(scratch) / "lake-latency"), 1)
            print(
                f"  latency  message -> queryable at low load: median {statistics.median(delays):.1f} s, "
                f"worst {max(delays):.1f} s (target < 10 s)"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
