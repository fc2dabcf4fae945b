"""Every notification shape that can announce a CloudTrail log file."""

from __future__ import annotations

import json

import pytest

from trailhouse.model.notifications import (
    NotificationError,
    NotifiedObject,
    TestMessage,
    parse_notification,
)

KEY = (
    "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/11/21/"
    "111122223333_CloudTrail_us-east-1_20261121T1200Z_abcdefABCDEF0123.json.gz"
)
CLOUDTRAIL = {"s3Bucket": "trail-bucket", "s3ObjectKey": [KEY]}


def sns(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "5f0b6a2b-0000-0000-0000-000000000000",
            "TopicArn": "arn:aws:sns:us-east-1:111122223333:trail-topic",
            "Message": message,
            "Timestamp": "2026-11-21T12:05:00.000Z",
        }
    )


def s3_event(key: str, event: str = "ObjectCreated:Put") -> dict[str, object]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": event,
                "s3": {
                    "bucket": {"name": "trail-bucket"},
                    "object": {"key": key, "size": 1234, "eTag": "e1"},
                },
            }
        ]
    }


def test_notifications_cloudtrail_sns_envelope() -> None:
    assert parse_notification(sns(json.dumps(CLOUDTRAIL))) == [NotifiedObject("trail-bucket", KEY)]


def test_notifications_cloudtrail_raw_delivery() -> None:
    assert parse_notification(json.dumps(CLOUDTRAIL)) == [NotifiedObject("trail-bucket", KEY)]


def test_notifications_cloudtrail_several_keys() -> None:
    body = json.dumps({"s3Bucket": "b", "s3ObjectKey": ["a/AWSLogs/1.json.gz", "a/AWSLogs/2.json.gz"]})
    assert [o.key for o in parse_notification(body)] == ["a/AWSLogs/1.json.gz", "a/AWSLogs/2.json.gz"]


def test_notifications_s3_event_direct_unquotes_key() -> None:
    parsed = parse_notification(json.dumps(s3_event("my+logs/AWSLogs/%C3%A9t%C3%A9.json.gz")))
    assert parsed == [NotifiedObject("trail-bucket", "my logs/AWSLogs/été.json.gz", 1234, "e1")]


def test_notifications_s3_event_through_sns() -> None:
    assert parse_notification(sns(json.dumps(s3_event(KEY)))) == [
        NotifiedObject("trail-bucket", KEY, 1234, "e1")
    ]


def test_notifications_s3_removal_names_nothing() -> None:
    assert parse_notification(json.dumps(s3_event(KEY, "ObjectRemoved:Delete"))) == []


def test_notifications_eventbridge_object_created() -> None:
    event = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": {"bucket": {"name": "trail-bucket"}, "object": {"key": KEY, "size": 99, "etag": "x"}},
    }
    assert parse_notification(json.dumps(event)) == [NotifiedObject("trail-bucket", KEY, 99, "x")]
    assert parse_notification(sns(json.dumps(event))) == [NotifiedObject("trail-bucket", KEY, 99, "x")]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "trail-bucket"}),
        sns(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "trail-bucket"})),
        sns("CloudTrail validation message."),
        "CloudTrail validation message.",
        json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:us-east-1:1:t"}),
    ],
)
def test_notifications_test_messages_are_ignored(body: str) -> None:
    assert isinstance(parse_notification(body), TestMessage)


@pytest.mark.parametrize(
    "body",
    ["not json at all", "[1, 2]", json.dumps({"hello": "world"}), sns("garbage"), json.dumps({"Records": 3})],
)
def test_notifications_unknown_shapes_raise(body: str) -> None:
    with pytest.raises(NotificationError, match="Not a notification"):
        parse_notification(body)
