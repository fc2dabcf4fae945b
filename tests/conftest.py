"""Fixtures shared by the test tiers: tiny CloudTrail buckets written on the fly."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ACCOUNT = "012345678901"


def event(**fields: Any) -> dict[str, Any]:
    """A plausible CloudTrail management event; keyword arguments override its fields."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "userName": "alice",
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "requestParameters": {"maxResults": 5},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(fields)
    return record


def log_key(
    account: str = ACCOUNT, region: str = "eu-west-1", stamp: str = "20261101T1005Z", org: str = ""
) -> str:
    day = f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    prefix = f"AWSLogs/{org}/{account}" if org else f"AWSLogs/{account}"
    suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{org}{account}{region}{stamp}").hex[:16]
    return f"{prefix}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"


def write_log(root: Path, key: str, records: list[dict[str, Any]] | bytes, *, compress: bool = True) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    body = records if isinstance(records, bytes) else json.dumps({"Records": records}).encode()
    path.write_bytes(gzip.compress(body, mtime=0) if compress else body)
    return path


@pytest.fixture
def bucket(tmp_path: Path) -> Callable[[str, list[dict[str, Any]] | bytes], Path]:
    """A function writing one log object under a temporary bucket folder (returned as .parent)."""
    root = tmp_path / "bucket"
    root.mkdir()

    def put(key: str, records: list[dict[str, Any]] | bytes, compress: bool = True) -> Path:
        write_log(root, key, records, compress=compress)
        return root

    return put


def strip_nulls(value: Any) -> Any:
    """JSON-equality where a null-valued key counts as absent."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def canonical(record: dict[str, Any]) -> str:
    """A record as sorted-key JSON, null-valued keys left out: equal texts are JSON-equal records."""
    return json.dumps(strip_nulls(record), sort_keys=True)


def corpus_or_skip() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared conformance corpus is not at {CORPUS}")
    return CORPUS
