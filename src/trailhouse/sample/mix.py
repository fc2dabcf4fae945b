"""The event mix: which builders a region's files draw from, and how often."""

from __future__ import annotations

import random
from typing import Any

from trailhouse.sample import events, failures, security
from trailhouse.sample.events import Builder
from trailhouse.sample.scene import Scene, api_record, uuid4

Json = dict[str, Any]

GLOBAL_REGION = "us-east-1"  # IAM, sign-in and Identity Center events are logged here only


def identity_center(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """Identity Center activity: portal sign-in steps (Unknown) and S3 Access Grants (IdentityCenterUser)."""
    others = scene.cast.others
    if rng.random() < 0.6:
        actor = others["Unknown"]
        name = rng.choice(("Authenticate", "ListAccounts", "GetRoleCredentials", "ListAccountRoles"))
        record = api_record(
            scene,
            rng,
            actor,
            event_time,
            "sso.amazonaws.com",
            name,
            None,
            read_only=name != "Authenticate",
            version="1.08",
            host=f"portal.sso.{scene.region}.amazonaws.com",
        )
        if name == "Authenticate":
            record["eventType"] = "AwsServiceEvent"
            record["serviceEventDetails"] = {"CredentialType": "PASSWORD"}
        return record
    actor = others["IdentityCenterUser"]
    params = {
        "target": f"s3://{scene.buckets[0]}/tables/sales/*",
        "permission": "READ",
        "durationSeconds": 3600,
    }
    return api_record(
        scene,
        rng,
        actor,
        event_time,
        "s3.amazonaws.com",
        "GetDataAccess",
        params,
        {
            "credentials": {
                "accessKeyId": "ASIA" + f"{rng.getrandbits(80):020X}"[:16],
                "expiration": security.expiration(event_time),
            },
            "matchedGrantTarget": f"s3://{scene.buckets[0]}/tables/*",
        },
        version="1.10",
    )


def federated_call(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """A call by a federated user (GetFederationToken sessions of the build bot)."""
    actor = scene.cast.others["FederatedUser"]
    name = rng.choice(("DescribeImages", "DescribeSnapshots", "CreateTags"))
    params: Json = {"imagesSet": {}, "filterSet": {}} if name == "DescribeImages" else {"filterSet": {}}
    if name == "CreateTags":
        params = {
            "resourcesSet": {"items": [{"resourceId": f"i-0{rng.getrandbits(64):016x}"}]},
            "tagSet": {"items": [{"key": "build", "value": str(rng.randrange(10_000))}]},
        }
    return api_record(
        scene, rng, actor, event_time, "ec2.amazonaws.com", name, params, read_only=name != "CreateTags"
    )


def root_call(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """The rare legitimate root call (billing, account settings)."""
    actor = scene.cast.others["Root"]
    name = rng.choice(("GetAccountSummary", "GetAccountPasswordPolicy"))
    record = api_record(
        scene,
        rng,
        actor,
        event_time,
        "iam.amazonaws.com",
        name,
        None,
        version="1.08",
        host="iam.amazonaws.com",
    )
    record["awsRegion"] = GLOBAL_REGION
    return record


def stray_failure(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """A lone failed call outside any burst."""
    throttled = rng.random() < 0.4
    actor, call = failures.failing_call(scene, rng, throttled=throttled)
    if scene.region != GLOBAL_REGION and call[0].startswith("iam."):
        actor, call = failures.failing_call(scene, rng, throttled=True)
    return failures.failed_record(scene, rng, event_time, actor, call)


def service_event(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """An AwsServiceEvent: a service acting on its own (KMS key rotation)."""
    key = scene.kms_keys[int(rng.random() * len(scene.kms_keys))]
    return {
        "eventVersion": "1.10",
        "userIdentity": {"accountId": scene.account, "invokedBy": "kms.amazonaws.com"},
        "eventTime": event_time,
        "eventSource": "kms.amazonaws.com",
        "eventName": "RotateKey",
        "awsRegion": scene.region,
        "sourceIPAddress": "kms.amazonaws.com",
        "userAgent": "kms.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "additionalEventData": {"keyId": key},
        "eventID": uuid4(rng),
        "readOnly": False,
        "resources": [{"accountId": scene.account, "type": "AWS::KMS::Key", "ARN": key}],
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": scene.account,
        "serviceEventDetails": {"keyId": key},
        "eventCategory": "Management",
    }


# (builder, weight per 10,000 events, logged in every region?)
_MIX: tuple[tuple[Builder, int, bool], ...] = (
    (events.get_object, 2200, True),
    (events.put_object, 800, True),
    (events.head_object, 400, True),
    (events.delete_object, 120, True),
    (events.copy_object, 80, True),
    (events.lambda_invoke, 600, True),
    (events.network_activity, 300, True),
    (events.kms_decrypt, 900, True),
    (events.routine_call, 2900, True),
    (security.assume_role, 900, True),
    (security.security_group_change, 40, True),
    (federated_call, 40, True),
    (stray_failure, 60, True),
    (service_event, 5, True),
    (events.iam_read, 400, False),
    (security.iam_change, 40, False),
    (security.console_login, 30, False),
    (identity_center, 100, False),
    (root_call, 5, False),
)


def mix_for(region: str) -> tuple[tuple[Builder, ...], list[int]]:
    """The builders of a region and their cumulative weights (for random.choices)."""
    chosen = [
        (builder, weight) for builder, weight, everywhere in _MIX if everywhere or region == GLOBAL_REGION
    ]
    cumulative: list[int] = []
    total = 0
    for _, weight in chosen:
        total += weight
        cumulative.append(total)
    return tuple(builder for builder, _ in chosen), cumulative
