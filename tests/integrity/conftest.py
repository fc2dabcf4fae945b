"""A tiny CloudTrail bucket with signed digests, built in a tmp folder for each test."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from trailhouse.integrity.public_keys import KeyRing, load_public_keys
from trailhouse.integrity.signer import PUBLIC_KEYS_FILE, SigningKey, write_digests

ACCOUNT = "111122223333"
REGION = "us-east-1"
START = dt.datetime(2026, 7, 29, 9, tzinfo=dt.UTC)


def log_key(hour: int, index: int, *, account: str = ACCOUNT, region: str = REGION, org: str = "") -> str:
    when = START + dt.timedelta(hours=hour, minutes=5 * index)
    org_part = f"{org}/" if org else ""
    return (
        f"AWSLogs/{org_part}{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{index:016d}.json.gz"
    )


def write_log(root: Path, key: str, events: int = 3) -> Path:
    when = key.rsplit("_", 2)[-2]
    stamp = dt.datetime.strptime(when, "%Y%m%dT%H%MZ").replace(tzinfo=dt.UTC)
    records = [
        {
            "eventVersion": "1.09",
            "eventTime": (stamp + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventName": "DescribeInstances",
            "eventID": f"{key[-30:]}-{i}",
        }
        for i in range(events)
    ]
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), mtime=0))
    return path


@dataclass
class Bucket:
    """A local bucket copy: its root, its public keys, and its digests oldest first."""

    root: Path
    digests: list[Path]

    @property
    def keys_file(self) -> Path:
        return self.root / PUBLIC_KEYS_FILE

    def ring(self) -> KeyRing:
        return KeyRing(load_public_keys(self.keys_file))

    def logs(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix())


def make_bucket(
    root: Path,
    *,
    hours: int = 5,
    per_hour: int = 2,
    org: str = "",
    accounts: tuple[str, ...] = (ACCOUNT,),
    signing_keys: list[SigningKey] | None = None,
) -> Bucket:
    for account in accounts:
        for hour in range(hours):
            for index in range(per_hour):
                write_log(root, log_key(hour, index, account=account, org=org))
    write_digests(root, bucket="trail-bucket", signing_keys=signing_keys)
    digests = sorted(p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" in p.as_posix())
    return Bucket(root, digests)


@pytest.fixture
def bucket(tmp_path: Path) -> Bucket:
    return make_bucket(tmp_path / "bucket")
