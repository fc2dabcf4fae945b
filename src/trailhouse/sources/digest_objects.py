"""What digest validation needs from AWS: S3 listings, objects and their `signature` metadata, public keys.

CloudTrail keeps each digest's signature in the S3 object's user metadata (`signature`, hex, and
`signature-algorithm`), which a plain download loses; this module reads it with the object.
The clients honour the standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, credentials).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import SourceError

_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)
_LOCK = threading.Lock()
_MISSING = {"NoSuchKey", "404", "NotFound"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes as stored and its user metadata."""

    data: bytes
    metadata: dict[str, str]

    @property
    def signature(self) -> str | None:
        return self.metadata.get("signature")


@cache
def _client(service: str, region: str = "") -> Any:
    # boto3's default session is not thread-safe to create clients from; clients are, once made.
    with _LOCK:
        return boto3.client(service, region_name=region or None, config=_CONFIG)


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// uri."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def _fail(error: Exception, what: str) -> SourceError:
    return SourceError(
        f"Could not read '{what}' from S3 ({type(error).__name__}: {error})\n"
        "Check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID), the region and AWS_ENDPOINT_URL."
    )


def list_objects(bucket: str, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(key, size) of every object under the prefix."""
    try:
        paginator = _client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], int(item["Size"])
    except (ClientError, BotoCoreError) as error:
        raise _fail(error, f"s3://{bucket}/{prefix}") from None


def get_object(bucket: str, key: str) -> StoredObject | None:
    """The object's bytes and metadata (incl. a digest's `signature`), or None when it does not exist."""
    try:
        response = _client("s3").get_object(Bucket=bucket, Key=key)
        return StoredObject(response["Body"].read(), dict(response.get("Metadata", {})))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise _fail(error, f"s3://{bucket}/{key}") from None
    except BotoCoreError as error:
        raise _fail(error, f"s3://{bucket}/{key}") from None


def head_signature(bucket: str, key: str) -> str | None:
    """A digest's `signature` metadata without downloading it (None when absent or missing)."""
    try:
        response = _client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise _fail(error, f"s3://{bucket}/{key}") from None
    metadata: dict[str, str] = response.get("Metadata", {})
    return metadata.get("signature")


def stream_object(bucket: str, key: str) -> Iterator[bytes] | None:
    """The object's bytes in chunks (bounded memory), or None when it does not exist."""
    try:
        response = _client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise _fail(error, f"s3://{bucket}/{key}") from None
    body = response["Body"]
    return iter(lambda: body.read(CHUNK), b"")


def put_object(bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
    """Write an object with user metadata (tests and copies use it to keep a digest's signature)."""
    try:
        _client("s3").put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {})
    except (ClientError, BotoCoreError) as error:
        raise _fail(error, f"s3://{bucket}/{key}") from None


def list_public_keys(region: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """CloudTrail's ListPublicKeys for a region and time range, all pages merged (Value as raw DER bytes)."""
    client = _client("cloudtrail", region)
    keys: list[dict[str, Any]] = []
    token: str | None = None
    try:
        while True:
            extra = {"NextToken": token} if token else {}
            response = client.list_public_keys(StartTime=start, EndTime=end, **extra)
            keys.extend(response.get("PublicKeyList", []))
            token = response.get("NextToken")
            if not token:
                return {"PublicKeyList": keys}
    except (ClientError, BotoCoreError) as error:
        raise SourceError(
            f"Could not list CloudTrail public keys in '{region}' ({type(error).__name__}: {error})\n"
            "Work offline with --public-keys FILE (the output of 'aws cloudtrail list-public-keys')."
        ) from None
