"""CloudTrail Insights files: unusual API call rates and error rates, each a Start and an End event."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from trailhouse.sample.failures import burst_call
from trailhouse.sample.layout import file_suffix, log_key
from trailhouse.sample.plan import FilePlan
from trailhouse.sample.scene import Scene, uuid4

Json = dict[str, Any]

_CALL_RATE = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("kms.amazonaws.com", "GenerateDataKey"),
)
_ERROR_RATE = (
    ("kms.amazonaws.com", "Decrypt", "ThrottlingException"),
    ("ec2.amazonaws.com", "DescribeInstances", "Client.RequestLimitExceeded"),
    ("secretsmanager.amazonaws.com", "GetSecretValue", "AccessDenied"),
)


@dataclass(frozen=True)
class InsightFile:
    """One Insights file: its key and its records (one Start or one End event)."""

    key: str
    records: tuple[Json, ...]


def _details(
    state: str,
    source: str,
    name: str,
    kind: str,
    error: str | None,
    baseline: float,
    peak: float,
    duration: int | None,
    arn: str,
) -> Json:
    statistics: Json = {"baseline": {"average": baseline}, "insight": {"average": peak}}
    if duration is not None:
        statistics["insightDuration"] = duration
        statistics["baselineDuration"] = 10_079
    details: Json = {"state": state, "eventSource": source, "eventName": name, "insightType": kind}
    if error:
        details["errorCode"] = error
    details["insightContext"] = {
        "statistics": statistics,
        "attributions": [
            {
                "attribute": "userIdentityArn",
                "insight": [{"value": arn, "average": round(peak * 0.9, 4)}],
                "baseline": [{"value": arn, "average": round(baseline * 0.8, 4)}],
            },
            {
                "attribute": "userAgent",
                "insight": [{"value": "aws-cli/2.22.4", "average": round(peak * 0.9, 4)}],
                "baseline": [{"value": "aws-cli/2.22.4", "average": round(baseline * 0.7, 4)}],
            },
            {
                "attribute": "errorCode",
                "insight": [{"value": error or "null", "average": peak}],
                "baseline": [{"value": error or "null", "average": baseline}],
            },
        ],
    }
    return details


def insight_files(scene: Scene, seed: int, day: date, org: str) -> list[InsightFile]:
    """The Insights files of one account, region and day (none on most quiet days)."""
    rng = random.Random(f"{seed}/insights/{scene.account}/{scene.region}/{day}")
    files: list[InsightFile] = []
    kinds = (
        ["ApiCallRateInsight", "ApiErrorRateInsight"]
        if scene.region == "us-east-1"
        else (["ApiErrorRateInsight"] if rng.random() < 0.5 else [])
    )
    for kind in kinds:
        if kind == "ApiCallRateInsight":
            source, name = rng.choice(_CALL_RATE)
            error = None
            baseline, peak = round(rng.uniform(0.02, 2.0), 4), round(rng.uniform(20.0, 300.0), 4)
        else:
            source, name, error = rng.choice(_ERROR_RATE)
            baseline, peak = round(rng.uniform(0.0, 0.02), 4), round(rng.uniform(0.3, 0.95), 4)
        began = datetime(day.year, day.month, day.day, rng.randrange(1, 20), rng.randrange(60), tzinfo=UTC)
        ended = began + timedelta(minutes=rng.randrange(2, 90))
        actor = scene.cast.workloads[rng.randrange(len(scene.cast.workloads))]
        arn = actor.identity["arn"]
        files += _pair(scene, rng, org, day, began, ended, (source, name, kind, error, baseline, peak, arn))
    return files


def _pair(
    scene: Scene,
    rng: random.Random,
    org: str,
    day: date,
    began: datetime,
    ended: datetime,
    what: tuple[str, str, str, str | None, float, float, str],
) -> list[InsightFile]:
    """The Start and End files of one insight."""
    source, name, kind, error, baseline, peak, arn = what
    minutes = max(1, round((ended - began).total_seconds() / 60))
    shared = uuid4(rng)
    files = []
    for state, moment, duration in (("Start", began, None), ("End", ended, minutes)):
        record = {
            "eventVersion": "1.08",
            "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "awsRegion": scene.region,
            "eventID": uuid4(rng),
            "eventType": "AwsCloudTrailInsight",
            "recipientAccountId": scene.account,
            "sharedEventID": shared,
            "insightDetails": _details(state, source, name, kind, error, baseline, peak, duration, arn),
            "eventCategory": "Insight",
        }
        delivered = moment + timedelta(minutes=rng.randrange(5, 30))
        if delivered.date() != day:  # keep the day's insights in the day's folder
            delivered = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
        key = log_key("CloudTrail-Insight", scene.account, scene.region, delivered, file_suffix(rng), org)
        files.append(InsightFile(key, (record,)))
    return files


def burst_insight_files(scene: Scene, plan: FilePlan, org: str) -> list[InsightFile]:
    """The ApiErrorRateInsight that a log file's burst of failures raises."""
    actor, (source, name, error, _) = burst_call(scene, plan.seed)
    rng = random.Random(f"{plan.seed}/insight")
    arn = actor.identity.get("arn") or actor.identity.get("invokedBy", "")
    baseline, peak = round(rng.uniform(0.0, 0.02), 4), round(rng.uniform(0.3, 0.6), 4)
    began = datetime.fromtimestamp(plan.start, tz=UTC)
    ended = datetime.fromtimestamp(plan.end, tz=UTC)
    what = (source, name, "ApiErrorRateInsight", error, baseline, peak, arn)
    return _pair(scene, rng, org, plan.day, began, ended, what)
