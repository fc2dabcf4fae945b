"""Small lakes for report tests: CloudTrail records (dicts) written straight to Delta, no ingest."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailhouse.lake import Lake
from trailhouse.model.schema import CLOUDTRAIL_SCHEMA, EVENTS, INSIGHTS, INSIGHTS_SCHEMA, RecordLayout

ACCOUNT = "111122223333"
OTHER = "444455556666"
_counter = iter(range(1 << 40))


def record(**fields: Any) -> dict[str, Any]:
    """A plausible CloudTrail management event; keyword arguments override its fields."""
    n = next(_counter)
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAALICE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "userName": "alice",
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "81.2.69.160",
        "userAgent": "aws-cli/2",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"req-{n}",
        "eventID": f"evt-{n:08d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    base.update(fields)
    return base


def user(name: str, account: str = ACCOUNT, kind: str = "IAMUser") -> dict[str, Any]:
    if kind == "Root":
        return {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
        }
    return {
        "type": kind,
        "principalId": f"AIDA{name.upper()}",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "userName": name,
    }


def to_row(raw: dict[str, Any], layout: RecordLayout = EVENTS) -> dict[str, Any]:
    row: dict[str, Any] = {}
    when = datetime.strptime(raw["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    for name in layout.typed.names:
        row[name] = when if name == "eventTime" else raw.get(name)
    for name in layout.json_text:
        value = raw.get(name)
        row[name] = None if value is None else json.dumps(value)
    row["event_date"] = when.date()
    row["_rescued_data"] = None
    row["source_object"] = "test"
    return row


def build_lake(
    root: Path, records: Iterable[dict[str, Any]], insights: Iterable[dict[str, Any]] = ()
) -> Lake:
    lake = Lake(root)
    rows = [to_row(r) for r in records]
    if rows:
        lake.append(
            "cloudtrail", pa.Table.from_pylist(rows, schema=CLOUDTRAIL_SCHEMA), partition_by=["event_date"]
        )
    insight_rows = [to_row(r, INSIGHTS) for r in insights]
    if insight_rows:
        table = pa.Table.from_pylist(insight_rows, schema=INSIGHTS_SCHEMA)
        lake.append("cloudtrail_insights", table, partition_by=["event_date"])
    return lake
