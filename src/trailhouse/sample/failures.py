"""Failed calls: AccessDenied and throttling, alone or in bursts from one caller."""

from __future__ import annotations

import random
from typing import Any

from trailhouse.sample.identities import Actor
from trailhouse.sample.scene import Scene, api_record

Json = dict[str, Any]


# Failing calls for bursts: (eventSource, eventName, errorCode, errorMessage pattern).
_DENIED = (
    (
        "s3.amazonaws.com",
        "GetObject",
        "AccessDenied",
        "User: {arn} is not authorized to perform: "
        's3:GetObject on resource: "arn:aws:s3:::{bucket}/tables/sales/" because no identity-based policy '
        "allows the s3:GetObject action",
    ),
    (
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        "AccessDenied",
        "User: {arn} is not authorized to "
        "perform: secretsmanager:GetSecretValue because no resource-based policy allows the action",
    ),
    (
        "ec2.amazonaws.com",
        "DescribeInstances",
        "Client.UnauthorizedOperation",
        "You are not authorized to perform this operation. User: {arn} is not authorized to perform: "
        "ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action",
    ),
    (
        "iam.amazonaws.com",
        "ListUsers",
        "AccessDenied",
        "User: {arn} is not authorized to perform: "
        "iam:ListUsers on resource: arn:aws:iam::{account}:user/ because no identity-based policy allows "
        "the iam:ListUsers action",
    ),
)
_THROTTLED = (
    ("ec2.amazonaws.com", "DescribeInstances", "Client.RequestLimitExceeded", "Request limit exceeded."),
    ("kms.amazonaws.com", "Decrypt", "ThrottlingException", "Rate exceeded"),
    ("dynamodb.amazonaws.com", "DescribeTable", "ThrottlingException", "Rate exceeded"),
    ("ssm.amazonaws.com", "GetParameter", "ThrottlingException", "Rate exceeded"),
)


def failing_call(
    scene: Scene, rng: random.Random, *, throttled: bool
) -> tuple[Actor, tuple[str, str, str, str]]:
    """An actor and a call that fails for it, repeated through a burst."""
    cast = scene.cast
    actor = (
        cast.workloads[int(rng.random() * len(cast.workloads))]
        if throttled or rng.random() < 0.6
        else (cast.users[int(rng.random() * len(cast.users))])
    )
    calls = _THROTTLED if throttled else _DENIED
    return actor, calls[int(rng.random() * len(calls))]


def burst_call(scene: Scene, key: str) -> tuple[Actor, tuple[str, str, str, str]]:
    """The caller and failing call of the burst in the file `key` (the same wherever it is asked)."""
    rng = random.Random(f"{key}/burst")
    actor, call = failing_call(scene, rng, throttled=rng.random() < 0.5)
    if scene.region != "us-east-1" and call[0].startswith("iam."):
        actor, call = failing_call(scene, rng, throttled=True)
    return actor, call


def failed_record(
    scene: Scene, rng: random.Random, event_time: str, actor: Actor, call: tuple[str, str, str, str]
) -> Json:
    """One failed call: errorCode and errorMessage sit before requestParameters, as CloudTrail writes."""
    source, name, code, message = call
    arn = actor.identity.get("arn", "")
    record = api_record(
        scene,
        rng,
        actor,
        event_time,
        source,
        name,
        None,
        host="iam.amazonaws.com" if source.startswith("iam.") else None,
    )
    params = {"bucketName": scene.buckets[0]} if source.startswith("s3.") else None
    failed: Json = {}
    for key, value in record.items():
        if key == "requestParameters":
            failed["errorCode"] = code
            failed["errorMessage"] = message.format(arn=arn, bucket=scene.buckets[0], account=scene.account)
            value = params
        failed[key] = value
    if source.startswith("iam."):
        failed["awsRegion"] = "us-east-1"
    if source.startswith("s3."):  # object-level: a data event
        failed["managementEvent"] = False
        failed["eventCategory"] = "Data"
    return failed
