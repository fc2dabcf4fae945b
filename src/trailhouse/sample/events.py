"""Builders of the everyday records: S3 and Lambda data events, network activity, routine API calls.

A builder takes (scene, rng, eventTime) and returns one record as a dict; the writer encodes many at
once with msgspec. Builders share immutable sub-blocks (identities, tlsDetails) to stay fast.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from trailhouse.sample.identities import Actor
from trailhouse.sample.scene import TABLES, Scene, api_record, request_id, uuid4

Json = dict[str, Any]
Builder = Callable[[Scene, random.Random, str], Json]

_S3_AGENTS = (
    "[aws-sdk-java/2.29.6 Linux/5.10.227-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
    "Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard]",
    "[Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227 md/arch#x86_64 lang/python#3.11.10 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54]",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.225-191.878.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]",
)


def object_key(rng: random.Random, event_time: str) -> str:
    """An object key: mostly partition-style table files, some uploads and assets."""
    roll = rng.random()
    if roll < 0.6:
        table = TABLES[int(rng.random() * len(TABLES))]
        return f"tables/{table}/dt={event_time[:10]}/part-{rng.randrange(1, 400):04d}.parquet"
    if roll < 0.8:
        return (
            f"raw/events/year={event_time[:4]}/month={event_time[5:7]}/day={event_time[8:10]}/"
            f"hour={event_time[11:13]}/events-{rng.getrandbits(32):08x}.json.gz"
        )
    if roll < 0.95:
        return f"assets/img/{rng.getrandbits(24):06x}.webp"
    return f"uploads/{uuid4(rng)}/report final (v2).pdf"


def _data_actor(scene: Scene, rng: random.Random) -> Actor:
    roll = rng.random()
    cast = scene.cast
    if roll < 0.75:
        return cast.workloads[int(rng.random() * len(cast.workloads))]
    if roll < 0.9:
        return cast.users[int(rng.random() * len(cast.users))]
    if roll < 0.95:
        return cast.others["AWSAccount"]
    return cast.sso[int(rng.random() * len(cast.sso))]


def s3_object_event(scene: Scene, rng: random.Random, event_time: str, name: str) -> Json:
    """An S3 object-level data event (GetObject, PutObject, DeleteObject, CopyObject, HeadObject)."""
    actor = _data_actor(scene, rng)
    bucket = scene.buckets[int(rng.random() * len(scene.buckets))]
    key = object_key(rng, event_time)
    host = f"{bucket}.s3.{scene.region}.amazonaws.com"
    params: Json = {"bucketName": bucket, "Host": host, "key": key}
    size = rng.randrange(200, 40_000_000) if name in ("GetObject", "PutObject", "CopyObject") else 0
    if name == "CopyObject":
        source_key = object_key(rng, event_time)
        params["x-amz-copy-source"] = f"{scene.buckets[0]}/{source_key}"
    response: Json | None = None
    if name == "PutObject":
        response = {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": scene.kms_keys[0],
        }
    ip = actor.ips[int(rng.random() * len(actor.ips))]
    via_endpoint = ip.startswith("10.")
    record: Json = {
        "eventVersion": "1.10",
        "userIdentity": actor.who(event_time),
        "eventTime": event_time,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": scene.region,
        "sourceIPAddress": ip,
        "userAgent": _S3_AGENTS[rng.randrange(3)],
        "requestParameters": params,
        "responseElements": response,
        "additionalEventData": {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": size if name == "PutObject" else 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": scene.amz_ids[int(rng.random() * len(scene.amz_ids))],
            "bytesTransferredOut": size if name == "GetObject" else 0,
        },
        "requestID": request_id(rng),
        "eventID": uuid4(rng),
        "readOnly": name in ("GetObject", "HeadObject"),
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": scene.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": scene.account,
    }
    if via_endpoint:
        record["vpcEndpointId"] = scene.s3_endpoint
        record["vpcEndpointAccountId"] = scene.account
    record["eventCategory"] = "Data"
    record["tlsDetails"] = scene.tls(host)
    return record


def get_object(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return s3_object_event(scene, rng, event_time, "GetObject")


def put_object(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return s3_object_event(scene, rng, event_time, "PutObject")


def delete_object(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return s3_object_event(scene, rng, event_time, "DeleteObject")


def copy_object(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return s3_object_event(scene, rng, event_time, "CopyObject")


def head_object(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return s3_object_event(scene, rng, event_time, "HeadObject")


def lambda_invoke(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """A Lambda Invoke data event, mostly from services (API Gateway, S3, EventBridge)."""
    function = scene.functions[int(rng.random() * len(scene.functions))]
    if rng.random() < 0.7:
        actor = scene.cast.services[int(rng.random() * len(scene.cast.services))]
    else:
        actor = scene.cast.workloads[int(rng.random() * len(scene.cast.workloads))]
    return {
        "eventVersion": "1.09",
        "userIdentity": actor.who(event_time),
        "eventTime": event_time,
        "eventSource": "lambda.amazonaws.com",
        "eventName": "Invoke",
        "awsRegion": scene.region,
        "sourceIPAddress": actor.ips[int(rng.random() * len(actor.ips))],
        "userAgent": actor.agents[int(rng.random() * len(actor.agents))],
        "requestParameters": {"functionName": function, "sourceArn": f"arn:aws:s3:::{scene.buckets[0]}"},
        "responseElements": None,
        "additionalEventData": {"functionVersion": f"{function}:$LATEST"},
        "requestID": uuid4(rng),
        "eventID": uuid4(rng),
        "readOnly": False,
        "resources": [{"accountId": scene.account, "type": "AWS::Lambda::Function", "ARN": function}],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": scene.account,
        "sharedEventID": uuid4(rng),
        "eventCategory": "Data",
    }


_VPCE_CALLS = (
    ("kms.amazonaws.com", "Decrypt"),
    ("kms.amazonaws.com", "ListAliases"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("secretsmanager.amazonaws.com", "GetSecretValue"),
    ("cloudtrail.amazonaws.com", "ListTrails"),
)


def network_activity(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """A VPC endpoint network-activity event; about a third were denied by the endpoint policy."""
    source, name = _VPCE_CALLS[int(rng.random() * len(_VPCE_CALLS))]
    actor = scene.cast.workloads[int(rng.random() * len(scene.cast.workloads))]
    if rng.random() < 0.15:
        actor = scene.cast.others["AWSAccount"]
    record: Json = {
        "eventVersion": "1.09",
        "userIdentity": actor.who(event_time),
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": scene.region,
        "sourceIPAddress": f"10.{rng.randrange(0, 40)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "userAgent": actor.agents[int(rng.random() * len(actor.agents))],
    }
    if rng.random() < 0.35:
        record["errorCode"] = "VpceAccessDenied"
        record["errorMessage"] = "The request was denied due to a VPC endpoint policy"
    record.update(
        {
            "requestParameters": None,
            "responseElements": None,
            "requestID": uuid4(rng),
            "eventID": uuid4(rng),
            "eventType": "AwsVpceEvent",
            "recipientAccountId": scene.account,
            "sharedEventID": uuid4(rng),
            "vpcEndpointId": scene.kms_endpoint if source == "kms.amazonaws.com" else scene.s3_endpoint,
            "vpcEndpointAccountId": scene.account,
            "eventCategory": "NetworkActivity",
        }
    )
    return record


def kms_decrypt(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """KMS Decrypt or GenerateDataKey, mostly by services on behalf of the account."""
    key = scene.kms_keys[int(rng.random() * len(scene.kms_keys))]
    name = "Decrypt" if rng.random() < 0.7 else "GenerateDataKey"
    service = rng.random() < 0.6
    cast = scene.cast
    actor = (
        cast.services[int(rng.random() * len(cast.services))]
        if service
        else (cast.workloads[int(rng.random() * len(cast.workloads))])
    )
    params: Json = {
        "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{scene.buckets[0]}"},
    }
    if name == "GenerateDataKey":
        params = {"keyId": key, "keySpec": "AES_256", "encryptionContext": params["encryptionContext"]}
    record = api_record(scene, rng, actor, event_time, "kms.amazonaws.com", name, params, version="1.10")
    record["resources"] = [{"accountId": scene.account, "type": "AWS::KMS::Key", "ARN": key}]
    if service:
        record["sharedEventID"] = uuid4(rng)
    return record


# Routine calls: (eventSource, eventName, requestParameters, readOnly, who) with who one of
# "user", "workload", "service", "sso".
_ROUTINE: tuple[tuple[str, str, Json | None, bool, str], ...] = (
    ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, True, "user"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "filterSet": {}}, True, "sso"),
    ("ec2.amazonaws.com", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}}, True, "service"),
    (
        "ec2.amazonaws.com",
        "DescribeNetworkInterfaces",
        {"networkInterfaceIdSet": {}, "filterSet": {}},
        True,
        "service",
    ),
    ("s3.amazonaws.com", "GetBucketAcl", None, True, "service"),
    ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, True, "user"),
    ("s3.amazonaws.com", "GetBucketPolicy", None, True, "service"),
    ("logs.amazonaws.com", "CreateLogStream", None, False, "workload"),
    ("logs.amazonaws.com", "DescribeLogGroups", {"limit": 50}, True, "sso"),
    (
        "ssm.amazonaws.com",
        "GetParameter",
        {"name": "/octank/prod/db-host", "withDecryption": False},
        True,
        "workload",
    ),
    ("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "prod/orders/db"}, True, "workload"),
    ("sts.amazonaws.com", "GetCallerIdentity", None, True, "user"),
    ("ecr.amazonaws.com", "GetAuthorizationToken", {"registryIds": []}, True, "workload"),
    ("dynamodb.amazonaws.com", "DescribeTable", {"tableName": "orders"}, True, "workload"),
    ("monitoring.amazonaws.com", "DescribeAlarms", {"maxRecords": 100}, True, "service"),
    ("cloudtrail.amazonaws.com", "LookupEvents", {"maxResults": 50}, True, "sso"),
    ("elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", None, True, "service"),
    ("autoscaling.amazonaws.com", "DescribeAutoScalingGroups", None, True, "service"),
)
_IAM_READS: tuple[tuple[str, str, Json | None, bool, str], ...] = (
    ("iam.amazonaws.com", "GetRole", {"roleName": "ingest-lambda-role"}, True, "service"),
    ("iam.amazonaws.com", "ListRoles", None, True, "sso"),
    ("iam.amazonaws.com", "GetUser", None, True, "user"),
    ("iam.amazonaws.com", "ListPolicies", {"scope": "Local", "onlyAttached": False}, True, "user"),
    ("iam.amazonaws.com", "GetAccountSummary", None, True, "service"),
)


def pick_actor(scene: Scene, rng: random.Random, who: str) -> Actor:
    """An actor from the named pool of the scene's cast."""
    cast = scene.cast
    pool = {"user": cast.users, "workload": cast.workloads, "service": cast.services, "sso": cast.sso}[who]
    return pool[int(rng.random() * len(pool))]


def _routine(calls: tuple[tuple[str, str, Json | None, bool, str], ...]) -> Builder:
    def build(scene: Scene, rng: random.Random, event_time: str) -> Json:
        source, name, params, read_only, who = calls[int(rng.random() * len(calls))]
        actor = pick_actor(scene, rng, who)
        if source == "s3.amazonaws.com" and params is None:
            params = {"bucketName": scene.buckets[int(rng.random() * len(scene.buckets))], "acl": ""}
        host = "iam.amazonaws.com" if source.startswith("iam.") else None
        record = api_record(
            scene,
            rng,
            actor,
            event_time,
            source,
            name,
            params,
            read_only=read_only,
            version="1.08" if source.startswith("iam.") else "1.09",
            host=host,
        )
        if source.startswith("iam."):
            record["awsRegion"] = "us-east-1"
        return record

    return build


routine_call = _routine(_ROUTINE)
iam_read = _routine(_IAM_READS)
