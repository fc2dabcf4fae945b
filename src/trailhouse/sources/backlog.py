"""Backlogs for `trailhouse status`: a queue's depth and oldest message; objects not yet ingested."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import SourceError
from trailhouse.model.keys import classify_key
from trailhouse.sources.s3 import S3Source, client
from trailhouse.sources.sqs import resolve_queue

_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "RedrivePolicy",
]


def queue_backlog(queue: str) -> dict[str, Any]:
    """Depth of `queue` (sqs://name or URL) and, when CloudWatch has it, its oldest message's age.

    A CloudTrail notification names about one object, so messages approximate objects outstanding.
    """
    url, region = resolve_queue(queue)
    sqs = client("sqs", region)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)["Attributes"]
    backlog: dict[str, Any] = {
        "queue": url,
        "messages": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        "oldest_age_s": _oldest_age(url, region),
    }
    redrive = attributes.get("RedrivePolicy")
    if redrive:
        dead = json.loads(redrive).get("deadLetterTargetArn", "")
        backlog["dead_letter"] = _dead_letter_depth(dead, region)
    return backlog


def _oldest_age(url: str, region: str | None) -> float | None:
    """ApproximateAgeOfOldestMessage over the last 5 minutes; None where CloudWatch has no data."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    now = datetime.now(UTC)
    try:
        points = client("cloudwatch", region).get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": name}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    except (ClientError, BotoCoreError):
        return None
    if not points:
        return None
    newest = max(points, key=lambda p: p["Timestamp"])
    return float(newest["Maximum"])


def _dead_letter_depth(arn: str, region: str | None) -> int | None:
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    try:
        url, _ = resolve_queue(f"sqs://{parts[5]}", parts[3] or region)
        attributes = client("sqs", parts[3] or region).get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
    except (SourceError, ClientError, BotoCoreError):
        return None
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def listing_backlog(uri: str, is_done: Callable[[str], bool], *, since: date | None = None) -> dict[str, Any]:
    """Objects and bytes under s3://bucket[/prefix] not yet in the lake (`is_done(identity)`)."""
    source = S3Source(uri, since=since)
    objects = outstanding_bytes = 0
    try:
        for ref in source.listing():
            info = classify_key(ref.key, ref.size)
            if info.kind != "skip" and not is_done(info.source_object):
                objects += 1
                outstanding_bytes += ref.size or 0
    finally:
        source.close()
    return {"source": uri, "objects_outstanding": objects, "bytes_outstanding": outstanding_bytes}
