"""The notification messages that announce new log files, parsed into (bucket, key) pairs. No I/O.

Shapes accepted, each either as the SQS body itself or inside an SNS envelope (raw delivery off):

    CloudTrail's SNS delivery notification   {"s3Bucket": "b", "s3ObjectKey": ["AWSLogs/..."]}
    S3 event notification                    {"Records": [{"eventSource": "aws:s3", "s3": {...}}]}
    EventBridge "Object Created"             {"detail-type": "Object Created", "source": "aws.s3", ...}
    test messages, acknowledged and ignored  {"Event": "s3:TestEvent", ...}, "CloudTrail validation
                                             message.", SNS subscription confirmations

S3 event notifications (direct, through SNS, or through EventBridge) carry URL-encoded keys
(a space arrives as '+'); CloudTrail's own notification carries plain keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from trailhouse.errors import SourceError

__all__ = ["NotificationError", "NotifiedObject", "TestMessage", "parse_notification"]


class NotificationError(SourceError):
    """A message that is not a notification shape Trailhouse knows."""


@dataclass(frozen=True)
class NotifiedObject:
    """One object a notification announces."""

    bucket: str
    key: str
    size: int | None = None
    etag: str = ""


@dataclass(frozen=True)
class TestMessage:
    """A test or control message: acknowledge it and move on."""

    __test__ = False  # not a pytest test class

    reason: str


def parse_notification(body: str) -> list[NotifiedObject] | TestMessage:
    """The objects a message names (possibly none), or TestMessage for a message to ignore.

    Raises NotificationError when the body is not a known shape.
    """
    document = _load(body)
    if isinstance(document, str):
        return _parse_text(document)
    if not isinstance(document, dict):
        raise NotificationError(f"Not a notification: a JSON {type(document).__name__}")
    envelope_type = document.get("Type")
    if isinstance(envelope_type, str) and "TopicArn" in document:
        return _parse_sns(envelope_type, document)
    return _parse_document(document)


def _load(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body  # plain text: only CloudTrail's validation message is expected


def _parse_text(text: str) -> TestMessage:
    if "CloudTrail validation message" in text:
        return TestMessage("CloudTrail validation message")
    raise NotificationError(f"Not a notification: plain text '{text[:60]}'")


def _parse_sns(envelope_type: str, envelope: dict[str, Any]) -> list[NotifiedObject] | TestMessage:
    if envelope_type in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return TestMessage(f"SNS {envelope_type}")
    if envelope_type != "Notification":
        raise NotificationError(f"Not a notification: SNS message of type '{envelope_type}'")
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise NotificationError("Not a notification: SNS envelope without a Message")
    inner = _load(message)
    if isinstance(inner, str):
        return _parse_text(inner)
    if not isinstance(inner, dict):
        raise NotificationError(f"Not a notification: SNS Message is a JSON {type(inner).__name__}")
    return _parse_document(inner)


def _parse_document(document: dict[str, Any]) -> list[NotifiedObject] | TestMessage:
    if "s3Bucket" in document and "s3ObjectKey" in document:
        return _parse_cloudtrail(document)
    if document.get("Event") == "s3:TestEvent":
        return TestMessage("s3:TestEvent")
    if "Records" in document:
        return _parse_s3_event(document["Records"])
    if "detail-type" in document and "detail" in document:
        return _parse_eventbridge(document)
    raise NotificationError(f"Not a notification: unknown fields {sorted(document)[:6]}")


def _parse_cloudtrail(document: dict[str, Any]) -> list[NotifiedObject]:
    bucket = document["s3Bucket"]
    keys = document["s3ObjectKey"]
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(bucket, str) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise NotificationError("Not a notification: s3Bucket must be text and s3ObjectKey a list of text")
    return [NotifiedObject(bucket, key) for key in keys]


def _parse_s3_event(records: Any) -> list[NotifiedObject]:
    if not isinstance(records, list):
        raise NotificationError("Not a notification: Records is not a list")
    found = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            raise NotificationError("Not a notification: a record whose eventSource is not 'aws:s3'")
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue  # removals, restores, replication: nothing to ingest
        try:
            bucket = record["s3"]["bucket"]["name"]
            obj = record["s3"]["object"]
            key = unquote_plus(obj["key"])
        except (KeyError, TypeError) as error:
            raise NotificationError(f"Not a notification: S3 event record without {error}") from None
        found.append(NotifiedObject(bucket, key, _size(obj.get("size")), str(obj.get("eTag", ""))))
    return found


def _parse_eventbridge(document: dict[str, Any]) -> list[NotifiedObject]:
    if document.get("source") != "aws.s3":
        raise NotificationError(f"Not a notification: EventBridge event from '{document.get('source')}'")
    if document["detail-type"] != "Object Created":
        return []
    detail = document["detail"]
    try:
        bucket = detail["bucket"]["name"]
        obj = detail["object"]
        key = unquote_plus(obj["key"])
    except (KeyError, TypeError) as error:
        raise NotificationError(f"Not a notification: EventBridge detail without {error}") from None
    return [NotifiedObject(bucket, key, _size(obj.get("size")), str(obj.get("etag", "")))]


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
