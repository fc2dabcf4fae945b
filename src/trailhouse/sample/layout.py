"""Where a sample bucket puts things: account and organisation ids, regions, S3 keys and file names."""

from __future__ import annotations

import random
from datetime import datetime

# In the order a sample uses them; the first is where global services (IAM, sign-in) log.
REGIONS = (
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-northeast-1",
    "eu-west-2",
    "ap-southeast-2",
    "sa-east-1",
    "ca-central-1",
    "us-east-2",
    "ap-south-1",
    "eu-north-1",
    "us-west-1",
)
MAX_REGIONS = len(REGIONS)

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def make_accounts(rng: random.Random, count: int) -> tuple[str, ...]:
    """Distinct 12-digit account ids; every third one starts with zeros, as real ones can."""
    accounts: list[str] = []
    while len(accounts) < count:
        if len(accounts) % 3 == 1:
            account = f"{rng.randrange(10**9, 10**10):012d}"  # two leading zeros
        else:
            account = f"{rng.randrange(10**11, 10**12):012d}"
        if account not in accounts:
            accounts.append(account)
    return tuple(accounts)


def make_org_id(rng: random.Random) -> str:
    """An AWS Organizations id: 'o-' and ten lowercase letters or digits."""
    return "o-" + "".join(rng.choice(_LOWER_ALNUM) for _ in range(10))


def file_suffix(rng: random.Random) -> str:
    """The 16 random letters and digits that end a CloudTrail file name."""
    return "".join(rng.choices(_ALNUM, k=16))


def account_prefix(account: str, org: str) -> str:
    """`AWSLogs/<account>` for an account trail, `AWSLogs/<org>/<account>` for an organisation trail."""
    return f"AWSLogs/{org}/{account}" if org else f"AWSLogs/{account}"


def log_key(folder: str, account: str, region: str, delivered: datetime, suffix: str, org: str = "") -> str:
    """The key CloudTrail gives a log or Insights file (`folder` is CloudTrail or CloudTrail-Insight)."""
    stamp = delivered.strftime("%Y%m%dT%H%MZ")
    name = f"{account}_{folder}_{region}_{stamp}_{suffix}.json.gz"
    return f"{account_prefix(account, org)}/{folder}/{region}/{delivered:%Y/%m/%d}/{name}"


def config_key(account: str, region: str, delivered: datetime, snapshot_id: str) -> str:
    """The key AWS Config gives a configuration snapshot (month and day are not zero-padded)."""
    stamp = delivered.strftime("%Y%m%dT%H%M%SZ")
    folder = f"{delivered.year}/{delivered.month}/{delivered.day}"
    name = f"{account}_Config_{region}_ConfigSnapshot_{stamp}_{snapshot_id}.json.gz"
    return f"AWSLogs/{account}/Config/{region}/{folder}/ConfigSnapshot/{name}"
