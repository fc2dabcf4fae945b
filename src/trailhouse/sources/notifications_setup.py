"""`trailhouse setup notifications`: bucket -> SNS topic -> SQS queue (with a dead-letter queue).

Like Auto Loader's `useNotifications`, it creates what is missing and leaves what exists, so it can
be run again safely. The topic also accepts CloudTrail's own delivery notifications, so a trail
can publish to it instead of (or beside) the bucket's event notification.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import SourceError
from trailhouse.sources.s3 import client, error_code

Action = Literal["create", "exists", "update"]


@dataclass(frozen=True)
class Step:
    """One resource of the plan and what happens (or happened) to it."""

    action: Action
    resource: str
    name: str


@dataclass(frozen=True)
class NotificationSetup:
    steps: tuple[Step, ...]
    topic_arn: str
    queue_url: str
    queue_name: str
    dead_letter_name: str
    dry_run: bool

    def ingest_command(self, lake: str) -> str:
        return f"trailhouse ingest sqs://{self.queue_name} --follow --lake {lake}"


def default_name(bucket: str) -> str:
    """trailhouse-<bucket>, kept to the characters and length SQS allows."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"trailhouse-{bucket}")[:76]


def setup_notifications(
    bucket: str,
    *,
    prefix: str = "",
    name: str | None = None,
    region: str | None = None,
    max_receives: int = 5,
    visibility_timeout: int = 120,
    dry_run: bool = False,
) -> NotificationSetup:
    """Create (idempotently) the topic, queues, subscription and bucket notification for `bucket`."""
    try:
        return _Setup(bucket, prefix, name or default_name(bucket), region, dry_run).run(
            max_receives, visibility_timeout
        )
    except (ClientError, BotoCoreError) as error:
        raise SourceError(
            f"Could not set up notifications for bucket '{bucket}' ({error_code(error)}: {error})\n"
            "Check the permissions listed in docs/aws.md (sns:CreateTopic, sqs:CreateQueue, "
            "s3:PutBucketNotification, ...) and the region."
        ) from None


class _Setup:
    def __init__(self, bucket: str, prefix: str, name: str, region: str | None, dry_run: bool) -> None:
        self.bucket, self.prefix, self.name, self.dry_run = bucket, prefix, name, dry_run
        self.sns, self.sqs, self.s3 = client("sns", region), client("sqs", region), client("s3", region)
        self.region = str(self.sqs.meta.region_name)
        self.account = str(client("sts", region).get_caller_identity()["Account"])
        self.steps: list[Step] = []

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def run(self, max_receives: int, visibility_timeout: int) -> NotificationSetup:
        topic_arn = self.topic()
        self.queue(f"{self.name}-dlq", {"MessageRetentionPeriod": "1209600"})
        dead_arn = self.arn("sqs", f"{self.name}-dlq")
        queue_arn = self.arn("sqs", self.name)
        attributes = {
            "VisibilityTimeout": str(visibility_timeout),
            "MessageRetentionPeriod": "1209600",
            # One more than max_receives: Trailhouse records the poison message in quarantine on
            # its last receive, then SQS moves it to the dead-letter queue.
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_arn, "maxReceiveCount": max_receives + 1}
            ),
            "Policy": json.dumps(_queue_policy(queue_arn, topic_arn)),
        }
        queue_url = self.queue(self.name, attributes)
        self.subscription(topic_arn, queue_arn)
        self.bucket_notification(topic_arn)
        return NotificationSetup(
            tuple(self.steps), topic_arn, queue_url, self.name, f"{self.name}-dlq", self.dry_run
        )

    def topic(self) -> str:
        topic_arn = self.arn("sns", self.name)
        try:
            self.sns.get_topic_attributes(TopicArn=topic_arn)
            exists = True
        except ClientError as error:
            if error_code(error) not in ("NotFound", "NotFoundException"):
                raise
            exists = False
        self.steps.append(Step("exists" if exists else "create", "SNS topic", topic_arn))
        if not self.dry_run:
            topic_arn = str(self.sns.create_topic(Name=self.name)["TopicArn"])  # idempotent
            policy = _topic_policy(topic_arn, self.bucket, self.account)
            self.sns.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
            )
        return topic_arn

    def queue(self, name: str, attributes: dict[str, str]) -> str:
        try:
            url = str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as error:
            if "NonExistentQueue" not in error_code(error):
                raise
            url = ""
        what = "SQS dead-letter queue" if name.endswith("-dlq") else "SQS queue"
        if url:
            self.steps.append(Step("update" if "Policy" in attributes else "exists", what, url))
            if not self.dry_run:
                self.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            return url
        self.steps.append(Step("create", what, name))
        if self.dry_run:
            return f"(new queue {name})"
        return str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    def subscription(self, topic_arn: str, queue_arn: str) -> None:
        existing: list[dict[str, Any]] = []
        if not (self.dry_run and self.steps[0].action == "create"):
            paginator = self.sns.get_paginator("list_subscriptions_by_topic")
            for page in paginator.paginate(TopicArn=topic_arn):
                existing += page.get("Subscriptions", [])
        found = any(s.get("Endpoint") == queue_arn and s.get("Protocol") == "sqs" for s in existing)
        self.steps.append(
            Step("exists" if found else "create", "SNS subscription", f"{topic_arn} -> {queue_arn}")
        )
        if not found and not self.dry_run:
            self.sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"RawMessageDelivery": "true"},
            )

    def bucket_notification(self, topic_arn: str) -> None:
        current = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        current.pop("ResponseMetadata", None)
        wanted_id = f"{self.name}-object-created"
        topics = current.get("TopicConfigurations", [])
        found = any(t.get("Id") == wanted_id or t.get("TopicArn") == topic_arn for t in topics)
        where = f"s3://{self.bucket}/{self.prefix} ObjectCreated -> {topic_arn}"
        self.steps.append(Step("exists" if found else "create", "S3 bucket notification", where))
        if found or self.dry_run:
            return
        configuration: dict[str, Any] = {
            "Id": wanted_id,
            "TopicArn": topic_arn,
            "Events": ["s3:ObjectCreated:*"],
        }
        if self.prefix:
            configuration["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": self.prefix}]}}
        # The call replaces the whole configuration: keep every other notification as it was.
        current["TopicConfigurations"] = [*topics, configuration]
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=current)


def _topic_policy(topic_arn: str, bucket: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ObjectCreated",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
            {
                "Sid": "CloudTrailDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
            },
        ],
    }


def _queue_policy(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopicToQueue",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
