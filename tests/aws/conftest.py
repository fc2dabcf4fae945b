"""A local AWS endpoint for the aws tier: moto's server mode on 127.0.0.1, one per test session.

The server runs as its own process (deltalake's requests hang against moto's in-process threaded
server). Each test gets the standard AWS environment pointing at it, so the code under test, the
`trailhouse` subprocesses it starts and the Delta writer all use the real clients unchanged.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TRAILHOUSE = str(Path(sys.executable).with_name("trailhouse"))
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.aws)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto server started for this session; stopped at the end."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    env = {**os.environ, **AWS_ENV}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto server did not start on {url}") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(autouse=True)
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The standard AWS environment, pointing at the local endpoint (inherited by subprocesses)."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.delenv("TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION", raising=False)
    return moto_endpoint


@pytest.fixture
def s3_bucket(aws_env: str) -> str:
    """A fresh, empty bucket on the local endpoint."""
    import boto3

    name = f"trail-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def put_log(bucket: str, key: str, records: list[dict[str, Any]]) -> int:
    """Upload one gzipped CloudTrail file; returns its size."""
    import boto3

    body = gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return len(body)


def make_queue(name: str | None = None, **attributes: str) -> str:
    """A fresh queue on the local endpoint; its URL."""
    import boto3

    name = name or f"q-{uuid.uuid4().hex[:10]}"
    return str(boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def queue_counts(url: str) -> tuple[int, int]:
    """(visible, in flight) messages."""
    import boto3

    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def trailhouse(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess with the current (local endpoint) environment."""
    done = subprocess.run(
        [TRAILHOUSE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )
    if check and done.returncode != 0:
        raise AssertionError(f"trailhouse {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def lake_event_ids(root: str) -> list[str]:
    """Every eventID in the lake's cloudtrail table (duplicates kept, to count them)."""
    from trailhouse.lake import Lake

    table = Lake(root).read("cloudtrail", columns=["eventID"])
    return [] if table is None else [str(v) for v in table.column("eventID").to_pylist()]


def ledger_rows(root: str) -> list[dict[str, Any]]:
    from trailhouse.lake import Lake

    table = Lake(root).read("ledger")
    return [] if table is None else table.to_pylist()
