"""The S3 key grammar of CloudTrail deliveries: what an object is, from its key alone.

    [prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json[.gz]
    [prefix/]AWSLogs/[o-org/]<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<file>.json[.gz]
    [prefix/]AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<file>.json[.gz]

Anything else is a skip with a reason (Config snapshots, folder markers, other files). Content
checks (empty objects, JSON that is not a CloudTrail file) happen when the object is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["events", "insights", "digest", "skip"]

_KIND_BY_FOLDER: dict[str, Kind] = {
    "CloudTrail": "events",
    "CloudTrail-Insight": "insights",
    "CloudTrail-Digest": "digest",
}

_KEY = re.compile(
    r"(?:^|/)AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<account>\d{12})/"
    r"(?P<folder>CloudTrail|CloudTrail-Insight|CloudTrail-Digest)/(?P<region>[^/]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<file>[^/]+)$"
)
_CONFIG = re.compile(r"(?:^|/)AWSLogs/(?:o-[a-z0-9]+/)?\d{12}/Config/")
_JSON_SUFFIXES = (".json.gz", ".json")
# Outside CloudTrail's layout (a flattened copy, an export), gzip files are tried by content too.
_CONTENT_SUFFIXES = (*_JSON_SUFFIXES, ".gz")
# The file name ends in a delivery time: ..._20260729T0915Z_<16 chars>.json.gz (digests: T091500Z).
_FILE_TIME = re.compile(r"_(\d{8}T\d{4,6}Z)")


@dataclass(frozen=True)
class KeyInfo:
    """What a key says about its object."""

    kind: Kind
    reason: str  # why it is skipped; "" when it is not
    source_object: str  # identity across copies: the key from AWSLogs/ on, else the key itself
    account: str = ""
    region: str = ""
    org: str = ""
    date: str = ""  # YYYY-MM-DD of the delivery folder
    delivered: str = ""  # the delivery time in the file name, e.g. 20260729T0915Z


def identity(key: str) -> str:
    """The object's identity: its key from `AWSLogs/` on, so a moved copy is the same object."""
    at = key.find("AWSLogs/")
    return key[at:] if at >= 0 else key


def classify_key(key: str, size: int | None = None) -> KeyInfo:
    """Classify an object by its key (and size, when known)."""
    source = identity(key)
    if key.endswith("/"):
        return KeyInfo("skip", "folder marker", source)
    if size == 0:
        return KeyInfo("skip", "empty object", source)
    if _CONFIG.search(key):
        return KeyInfo("skip", "AWS Config file, not CloudTrail", source)
    match = _KEY.search(key)
    if match is None:
        if key.endswith(_CONTENT_SUFFIXES):
            # Not in CloudTrail's layout; the content decides (custom exports are still tried).
            return KeyInfo("events", "", source)
        return KeyInfo("skip", "not a CloudTrail file (expected .json, .json.gz or .gz)", source)
    file_name = match["file"]
    if not file_name.endswith(_JSON_SUFFIXES):
        return KeyInfo("skip", "not a CloudTrail log file (expected .json or .json.gz)", source)
    delivered = _FILE_TIME.search(file_name)
    return KeyInfo(
        kind=_KIND_BY_FOLDER[match["folder"]],
        reason="",
        source_object=source,
        account=match["account"],
        region=match["region"],
        org=match["org"] or "",
        date=f"{match['y']}-{match['m']}-{match['d']}",
        delivered=delivered[1] if delivered else "",
    )
