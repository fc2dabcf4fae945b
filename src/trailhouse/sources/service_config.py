"""The CloudTrail service configuration file, compatible with Okera's integration.

    {"s3Region": "us-west-2", "sqsRegion": "us-west-2", "sqsUrl": "https://sqs.us-west-2.amazonaws.com/1/q"}

It is found through TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION (a local path or s3://bucket/key).
A file that is missing, unreadable or malformed stops start-up with one message naming where it
looked and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from trailhouse.config import setting
from trailhouse.errors import ConfigurationError, ObjectReadError, SourceError
from trailhouse.sources.base import OBJECT_GONE

FIELDS = ("s3Region", "sqsRegion", "sqsUrl")


@dataclass(frozen=True)
class ServiceConfiguration:
    s3_region: str
    sqs_region: str
    sqs_url: str
    location: str


def configured_location() -> str | None:
    """Where the service configuration lives, or None when the variable is not set."""
    return setting("service_configuration").strip() or None


def load_service_configuration(location: str | None = None) -> ServiceConfiguration | None:
    """The configuration at `location` (default: the environment variable), or None if unset."""
    location = location or configured_location()
    if location is None:
        return None
    try:
        text = _read(location)
    except (OSError, UnicodeDecodeError, SourceError, ObjectReadError) as error:
        raise _failure(location, _reason(error)) from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _failure(location, f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise _failure(location, f"expected a JSON object with {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if not isinstance(document.get(name), str) or not document[name]]
    if missing:
        raise _failure(location, f"missing field {', '.join(repr(m) for m in missing)}")
    return ServiceConfiguration(document["s3Region"], document["sqsRegion"], document["sqsUrl"], location)


def _read(location: str) -> str:
    if location.startswith("s3://"):
        from trailhouse.sources.s3 import download, split_uri

        bucket, key = split_uri(location)
        return download(bucket, key).decode("utf-8")
    return Path(location).read_text(encoding="utf-8")


def _reason(error: Exception) -> str:
    if isinstance(error, FileNotFoundError) or str(error) == OBJECT_GONE:
        return "no such file"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error).splitlines()[0]


def _failure(location: str, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"Failed to load CloudTrail service configuration file stored at {location}: {reason}\n"
        "Fix the file (a JSON object with s3Region, sqsRegion and sqsUrl) or unset "
        "TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION."
    )
