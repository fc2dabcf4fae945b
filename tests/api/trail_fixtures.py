"""A small two-account lake for the API, auth and browser tests (rows conform to CLOUDTRAIL_SCHEMA)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from trailhouse.lake import Lake
from trailhouse.model.schema import CLOUDTRAIL_SCHEMA

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
# An event only account B has: tests check that a user granted only A never sees it.
HIDDEN_EVENT_ID = "bbbbbbbb-0000-4000-8000-000000000001"


_SOURCES = {"ConsoleLogin": "signin.amazonaws.com", "CreateAccessKey": "iam.amazonaws.com"}


def _event(i: int, account: str, name: str, when: datetime, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_date": when.date(),
        "recipientAccountId": account,
        "awsRegion": "eu-west-1" if i % 3 else "us-east-1",
        "eventTime": when,
        "eventName": name,
        "eventSource": _SOURCES.get(name, "ec2.amazonaws.com"),
        "eventID": f"{account[:1] * 8}-{i:04d}-4000-8000-{i:012d}",
        "sourceIPAddress": f"198.51.100.{i % 50}",
        "readOnly": name.startswith("Describe"),
        "userIdentity": {
            "type": "Root" if i % 10 == 1 else "IAMUser",
            "arn": f"arn:aws:iam::{account}:user/user{i % 4}",
            "accountId": account,
            "userName": f"user{i % 4}",
        },
        "eventType": "AwsConsoleSignIn" if name == "ConsoleLogin" else "AwsApiCall",
        "eventCategory": "Management",
        "managementEvent": True,
        "userAgent": "aws-cli/2.15",
        "eventVersion": "1.09",
        "requestParameters": json.dumps({"groupId": "sg-0123"}) if "SecurityGroup" in name else None,
        "responseElements": json.dumps({"ConsoleLogin": "Success"}) if name == "ConsoleLogin" else None,
        "source_object": f"AWSLogs/{account}/CloudTrail/eu-west-1/x.json.gz",
    }
    row.update(extra)
    return row


def event_rows(now: datetime | None = None) -> list[dict[str, object]]:
    now = now or datetime.now(UTC).replace(microsecond=0)
    names = ["DescribeInstances", "ConsoleLogin", "AuthorizeSecurityGroupIngress", "RunInstances"]
    rows = []
    for i in range(40):
        account = ACCOUNT_A if i % 2 == 0 else ACCOUNT_B
        when = now - timedelta(hours=i)
        extra: dict[str, object] = {}
        if i % 5 == 0:
            extra = {"errorCode": "AccessDenied", "errorMessage": "not authorized"}
        name = "CreateAccessKey" if i % 8 == 3 else names[i % 4]
        rows.append(_event(i, account, name, when, **extra))
    rows.append(_event(999, ACCOUNT_B, "DeleteTrail", now - timedelta(minutes=5), eventID=HIDDEN_EVENT_ID))
    return rows


def build_lake(root: Path) -> Lake:
    lake = Lake(root)
    table = pa.Table.from_pylist(event_rows(), schema=CLOUDTRAIL_SCHEMA)
    lake.append("cloudtrail", table, partition_by=["event_date"])
    return lake
