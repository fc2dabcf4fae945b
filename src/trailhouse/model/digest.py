"""CloudTrail digest files as data: the `cloudtrail_digests` schema, digest key grammar, string to sign.

A digest file (`.../CloudTrail-Digest/...json.gz`) lists the log files one trail delivered in one
hour with their SHA-256, and links to the previous digest. CloudTrail signs each digest
(SHA256withRSA) over the string

    digestEndTime \\n digestS3Bucket/digestS3Object \\n hex(SHA-256(uncompressed digest)) \\n
    previousDigestSignature (the text "null" for the first digest of a chain)

and keeps the hex signature in the S3 object's metadata (`signature`), not in the file.
Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from trailhouse.errors import ObjectReadError

S = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")

LOG_FILE = pa.struct(
    [
        ("s3Bucket", S),
        ("s3Object", S),
        ("hashValue", S),
        ("hashAlgorithm", S),
        ("newestEventTime", TIMESTAMP),
        ("oldestEventTime", TIMESTAMP),
    ]
)

DIGEST_SCHEMA = pa.schema(
    [
        ("digest_date", pa.date32()),  # UTC date of digestEndTime
        ("awsAccountId", S),
        ("digestStartTime", TIMESTAMP),
        ("digestEndTime", TIMESTAMP),
        ("digestS3Bucket", S),
        ("digestS3Object", S),
        ("digestPublicKeyFingerprint", S),
        ("digestSignatureAlgorithm", S),
        ("newestEventTime", TIMESTAMP),
        ("oldestEventTime", TIMESTAMP),
        ("previousDigestS3Bucket", S),
        ("previousDigestS3Object", S),
        ("previousDigestHashValue", S),
        ("previousDigestHashAlgorithm", S),
        ("previousDigestSignature", S),
        ("logFiles", pa.list_(LOG_FILE)),
        ("source_object", S),
        ("signature", S),  # hex, from S3 metadata or a sidecar; null when unknown
        ("validation_status", S),  # valid | invalid | unverified | missing; null at ingest
        ("validation_detail", S),
        ("validated_at", TIMESTAMP),
    ]
)

_REQUIRED = ("digestEndTime", "digestS3Bucket", "digestS3Object", "digestPublicKeyFingerprint")
_TIME_FIELDS = ("digestStartTime", "digestEndTime", "newestEventTime", "oldestEventTime")
_TEXT_FIELDS = (
    "awsAccountId",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
    "digestSignatureAlgorithm",
    "previousDigestS3Bucket",
    "previousDigestS3Object",
    "previousDigestHashValue",
    "previousDigestHashAlgorithm",
    "previousDigestSignature",
)

# <account>_CloudTrail-Digest_<region>_<trail name>_<home region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz
_DIGEST_FILE = re.compile(
    r"^(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_(?P<trail>.+)_"
    r"(?P<home>[a-z0-9-]+)_(?P<time>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json(?:\.gz)?$"
)
_ORG_PART = re.compile(r"^o-[a-z0-9]+$")


@dataclass(frozen=True)
class DigestName:
    """What a digest key says: its trail, the delivery time, whether it is a backfill digest."""

    prefix: str  # the bucket prefix before AWSLogs/ ("" when none)
    org: str
    account: str
    region: str
    trail: str
    home_region: str
    time: str  # YYYYMMDDTHHMMSSZ
    is_backfill: bool

    @property
    def trail_id(self) -> str:
        """One name per digest chain: prefix, organisation, account, region, trail, home region."""
        parts = [self.prefix, self.org, self.account, self.region, self.trail, self.home_region]
        return "/".join(part for part in parts if part)


def parse_digest_key(key: str) -> DigestName | None:
    """Split a digest key into its parts, or None when it is not in CloudTrail's digest layout."""
    folders = key.split("/")
    file_name = folders[-1]
    match = _DIGEST_FILE.match(file_name)
    if match is None or "AWSLogs" not in folders:
        return None
    at = folders.index("AWSLogs")
    rest = folders[at + 1 :]
    org = rest[0] if rest and _ORG_PART.match(rest[0]) else ""
    return DigestName(
        prefix="/".join(folders[:at]),
        org=org,
        account=match["account"],
        region=match["region"],
        trail=match["trail"],
        home_region=match["home"],
        time=match["time"],
        is_backfill=match["backfill"] is not None,
    )


def is_backfill(key: str) -> bool:
    """A backfill digest (`..._backfill.json.gz`) covers files CloudTrail delivered late."""
    return key.endswith("_backfill.json.gz")


def digest_key(
    *, account: str, region: str, trail: str, end: dt.datetime, org: str = "", home_region: str = ""
) -> str:
    """The key CloudTrail gives the digest of one trail and region for the hour ending at `end`."""
    home = home_region or region
    stamp = end.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    org_part = f"{org}/" if org else ""
    return (
        f"AWSLogs/{org_part}{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
        f"{account}_CloudTrail-Digest_{region}_{trail}_{home}_{stamp}.json.gz"
    )


def string_to_sign(digest: Mapping[str, Any], uncompressed: bytes) -> bytes:
    """What CloudTrail signs for a digest (see the module docstring)."""
    previous = digest.get("previousDigestSignature")
    return (
        f"{digest['digestEndTime']}\n{digest['digestS3Bucket']}/{digest['digestS3Object']}\n"
        f"{hashlib.sha256(uncompressed).hexdigest()}\n{'null' if previous is None else previous}"
    ).encode()


def parse_digest(data: bytes, source_object: str = "") -> dict[str, Any]:
    """The digest's JSON object; raises ObjectReadError when it is not a digest file."""
    try:
        digest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ObjectReadError(
            f"Digest file '{source_object}' is not JSON ({error})\n"
            "Check that it was copied whole; re-copy it from the trail's bucket."
        ) from None
    if not isinstance(digest, dict):
        raise ObjectReadError(
            f"Digest file '{source_object}' is not a JSON object (got {type(digest).__name__})\n"
            "Check that the file is a CloudTrail digest (.../CloudTrail-Digest/...)."
        )
    missing = [name for name in _REQUIRED if not isinstance(digest.get(name), str)]
    if missing:
        raise ObjectReadError(
            f"Digest file '{source_object}' lacks {', '.join(missing)}\n"
            "A CloudTrail digest always has them; the file is damaged or not a digest."
        )
    log_files = digest.get("logFiles", [])
    if not isinstance(log_files, list) or not all(isinstance(item, dict) for item in log_files):
        raise ObjectReadError(
            f"Digest file '{source_object}' has a logFiles value that is not a list of objects\n"
            "The file is damaged or not a CloudTrail digest."
        )
    return digest


def parse_time(value: Any) -> dt.datetime | None:
    """A CloudTrail time ('2026-07-29T09:15:00Z') as an aware UTC datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def digest_row(digest: Mapping[str, Any], source_object: str, signature: str | None) -> dict[str, Any]:
    """One `cloudtrail_digests` row (as a dict of Python values) from a parsed digest."""
    row: dict[str, Any] = {name: _text(digest.get(name)) for name in _TEXT_FIELDS}
    for name in _TIME_FIELDS:
        row[name] = parse_time(digest.get(name))
    end = row["digestEndTime"]
    if end is None:
        raise ObjectReadError(
            f"Digest file '{source_object}' has a digestEndTime that is not a time "
            f"(got {digest.get('digestEndTime')!r})\nThe file is damaged or not a CloudTrail digest."
        )
    row["digest_date"] = end.date()
    row["logFiles"] = [
        {
            "s3Bucket": _text(item.get("s3Bucket")),
            "s3Object": _text(item.get("s3Object")),
            "hashValue": _text(item.get("hashValue")),
            "hashAlgorithm": _text(item.get("hashAlgorithm")),
            "newestEventTime": parse_time(item.get("newestEventTime")),
            "oldestEventTime": parse_time(item.get("oldestEventTime")),
        }
        for item in digest.get("logFiles", [])
    ]
    row["source_object"] = source_object
    row["signature"] = signature
    row["validation_status"] = None
    row["validation_detail"] = None
    row["validated_at"] = None
    return row


def digest_table(data: bytes, source_object: str, signature: str | None) -> pa.Table:
    """One digest file (already gunzipped) as a one-row `cloudtrail_digests` table."""
    digest = parse_digest(data, source_object)
    row = digest_row(digest, source_object, signature)
    return pa.Table.from_pylist([row], schema=DIGEST_SCHEMA)
