"""Builders of the records security reports look for: sign-ins, role assumptions, IAM and security-group
changes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from trailhouse.sample.identities import AGENTS_BROWSER, Actor
from trailhouse.sample.scene import Scene, api_record, uuid4

Json = dict[str, Any]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def expiration(event_time: str, hours: int = 1) -> str:
    """STS's expiration format, e.g. 'Nov 1, 2026, 3:00:00 AM'."""
    hour = int(event_time[11:13]) + hours
    if hour >= 24:  # rare: let datetime carry the day over
        moment = datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=hours)
        event_time, hour = moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.hour
    clock = hour % 12 or 12
    month = _MONTHS[int(event_time[5:7]) - 1]
    noon = "AM" if hour < 12 else "PM"
    return f"{month} {int(event_time[8:10])}, {event_time[:4]}, {clock}:{event_time[14:19]} {noon}"


def console_login(
    scene: Scene,
    rng: random.Random,
    event_time: str,
    actor: Actor | None = None,
    *,
    success: bool | None = None,
    mfa: bool | None = None,
    ip: str | None = None,
) -> Json:
    """A ConsoleLogin (eventType AwsConsoleSignIn), logged in us-east-1."""
    cast = scene.cast
    if actor is None:
        consoles = cast.consoles
        actor = cast.others["Root"] if rng.random() < 0.04 else consoles[int(rng.random() * len(consoles))]
    success = rng.random() < 0.9 if success is None else success
    mfa = rng.random() < 0.85 if mfa is None else mfa
    mfa = mfa and success  # a wrong password fails before the MFA step
    identity = dict(actor.identity)
    identity.pop("accessKeyId", None)
    if not success and actor.kind == "IAMUser" and rng.random() < 0.3:
        # Failed sign-ins for unknown names hide the name.
        identity = {
            "type": "IAMUser",
            "principalId": "",
            "accountId": scene.account,
            "accessKeyId": "",
            "userName": "HIDDEN_DUE_TO_SECURITY_REASONS",
        }
    root = actor.kind == "Root"
    record: Json = {
        "eventVersion": "1.11" if root else "1.09",
        "userIdentity": identity,
        "eventTime": event_time,
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip or actor.ips[int(rng.random() * len(actor.ips))],
        "userAgent": AGENTS_BROWSER[int(rng.random() * len(AGENTS_BROWSER))],
    }
    if not success:
        record["errorMessage"] = "Failed authentication"
    record["requestParameters"] = None
    record["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    record["additionalEventData"] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAIdentifier": f"arn:aws:iam::{scene.account}:mfa/{actor.name}" if mfa else None,
        "MFAUsed": "Yes" if mfa else "No",
    }
    if not mfa:
        del record["additionalEventData"]["MFAIdentifier"]
    record.update(
        {
            "eventID": uuid4(rng),
            "readOnly": False,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": True,
            "recipientAccountId": scene.account,
            "eventCategory": "Management",
            "tlsDetails": scene.tls("signin.aws.amazon.com"),
        }
    )
    return record


def _credentials(scene: Scene, rng: random.Random, event_time: str) -> Json:
    return {
        "accessKeyId": "ASIA" + f"{rng.getrandbits(80):020X}"[:16],
        "sessionToken": scene.tokens[int(rng.random() * len(scene.tokens))],
        "expiration": expiration(event_time),
    }


def assume_role(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """AssumeRole (mostly services and workloads), AssumeRoleWithSAML or AssumeRoleWithWebIdentity."""
    cast = scene.cast
    roll = rng.random()
    role_arn = cast.role_arns[int(rng.random() * len(cast.role_arns))]
    role_name = role_arn.rsplit("/", 1)[1]
    role_id = "AROA" + f"{rng.getrandbits(90):023X}"[:17]
    if roll < 0.06:
        name, actor = "AssumeRoleWithSAML", cast.others["SAMLUser"]
        session = actor.name
        params: Json = {
            "sAMLAssertionID": f"_{uuid4(rng)}",
            "roleSessionName": session,
            "roleArn": role_arn,
            "durationSeconds": 3600,
            "principalArn": f"arn:aws:iam::{scene.account}:saml-provider/OktaSSO",
        }
    elif roll < 0.16:
        name, actor = "AssumeRoleWithWebIdentity", cast.others["WebIdentityUser"]
        session = f"GitHubActions-{rng.getrandbits(32)}"
        params = {"roleArn": role_arn, "roleSessionName": session, "durationSeconds": 3600}
    else:
        name = "AssumeRole"
        pool = rng.random()
        if pool < 0.6:
            actor = cast.services[int(rng.random() * len(cast.services))]
        elif pool < 0.85:
            actor = cast.workloads[int(rng.random() * len(cast.workloads))]
        elif pool < 0.95:
            actor = cast.users[int(rng.random() * len(cast.users))]
        else:
            actor = cast.others["AWSAccount"]
        session = f"{role_name}-{rng.getrandbits(40):010x}"
        params = {"roleArn": role_arn, "roleSessionName": session}
        if actor.kind == "AWSAccount":
            params["externalId"] = "octank-partner-7731"
    response: Json = {
        "credentials": _credentials(scene, rng, event_time),
        "assumedRoleUser": {
            "assumedRoleId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{scene.account}:assumed-role/{role_name}/{session}",
        },
    }
    if name == "AssumeRoleWithWebIdentity":
        response.update(
            {
                "subjectFromWebIdentityToken": actor.name,
                "audience": "sts.amazonaws.com",
                "provider": actor.identity["identityProvider"],
            }
        )
    record = api_record(
        scene, rng, actor, event_time, "sts.amazonaws.com", name, params, response, version="1.08"
    )
    record["resources"] = [{"accountId": scene.account, "type": "AWS::IAM::Role", "ARN": role_arn}]
    if actor.kind in ("AWSService", "AWSAccount"):
        record["sharedEventID"] = uuid4(rng)
    return record


def _admin(scene: Scene, rng: random.Random) -> Actor:
    cast = scene.cast
    roll = rng.random()
    if roll < 0.5:
        return cast.sso[int(rng.random() * len(cast.sso))]
    if roll < 0.8:
        return cast.users[int(rng.random() * len(cast.users))]
    if roll < 0.95:
        return cast.workloads[int(rng.random() * len(cast.workloads))]  # automation
    return cast.others["FederatedUser"]


def iam_change(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """An IAM write: users, access keys, policies, roles (global: logged in us-east-1)."""
    actor = _admin(scene, rng)
    user = f"svc-{rng.choice(('deploy', 'backup', 'metrics', 'legacy-ftp'))}"
    role = f"app-{rng.choice(('reader', 'writer', 'migrator'))}-role"
    policy = rng.choice(
        (
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            f"arn:aws:iam::{scene.account}:policy/octank-s3-datalake-rw",
        )
    )
    choice = rng.randrange(9)
    response: Json | None = None
    if choice == 0:
        name, params = "CreateUser", {"userName": user, "tags": [{"key": "team", "value": "platform"}]}
        response = {
            "user": {
                "path": "/",
                "userName": user,
                "userId": "AIDA" + f"{rng.getrandbits(90):023X}"[:17],
                "arn": f"arn:aws:iam::{scene.account}:user/{user}",
                "createDate": expiration(event_time, 0),
            }
        }
    elif choice == 1:
        name, params = "CreateAccessKey", {"userName": user}
        response = {
            "accessKey": {
                "userName": user,
                "accessKeyId": "AKIA" + f"{rng.getrandbits(80):020X}"[:16],
                "status": "Active",
                "createDate": expiration(event_time, 0),
            }
        }
    elif choice == 2:
        name, params = "AttachRolePolicy", {"roleName": role, "policyArn": policy}
    elif choice == 3:
        name, params = "DetachRolePolicy", {"roleName": role, "policyArn": policy}
    elif choice == 4:
        document = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
            f'"Resource":"arn:aws:s3:::{scene.buckets[0]}/*"}}]}}'
        )
        name, params = (
            "PutUserPolicy",
            {"userName": user, "policyName": "inline-s3", "policyDocument": document},
        )
    elif choice == 5:
        name, params = "DeleteRole", {"roleName": role}
    elif choice == 6:
        name, params = (
            "CreateRole",
            {
                "roleName": role,
                "assumeRolePolicyDocument": (
                    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                    '{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
                ),
            },
        )
    elif choice == 7:
        name, params = (
            "UpdateAccessKey",
            {
                "userName": user,
                "accessKeyId": "AKIA" + f"{rng.getrandbits(80):020X}"[:16],
                "status": "Inactive",
            },
        )
    else:
        name, params = "DeleteUser", {"userName": user}
    record = api_record(
        scene,
        rng,
        actor,
        event_time,
        "iam.amazonaws.com",
        name,
        params,
        response,
        read_only=False,
        version="1.08",
        host="iam.amazonaws.com",
    )
    record["awsRegion"] = "us-east-1"
    return record


def ip_permissions(rng: random.Random, port: int, cidr: str, ipv6: str | None = None) -> Json:
    """EC2's ipPermissions block for one TCP port."""
    item: Json = {
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "groups": {},
        "ipRanges": {"items": [{"cidrIp": cidr, "description": "added by octank"}]},
        "ipv6Ranges": {},
        "prefixListIds": {},
    }
    if ipv6:
        item["ipv6Ranges"] = {"items": [{"cidrIpv6": ipv6}]}
    return {"items": [item]}


def security_group_response(rng: random.Random, group: str, account: str, port: int, cidr: str) -> Json:
    return {
        "requestId": uuid4(rng),
        "_return": True,
        "securityGroupRuleSet": {
            "items": [
                {
                    "groupOwnerId": account,
                    "groupId": group,
                    "securityGroupRuleId": f"sgr-0{rng.getrandbits(64):016x}",
                    "isEgress": False,
                    "ipProtocol": "tcp",
                    "fromPort": port,
                    "toPort": port,
                    "cidrIpv4": cidr,
                }
            ]
        },
    }


def security_group_change(scene: Scene, rng: random.Random, event_time: str) -> Json:
    """Authorize/Revoke ingress or egress, or create/delete a group; some rules open to the world."""
    actor = _admin(scene, rng)
    group = scene.security_groups[int(rng.random() * len(scene.security_groups))]
    port = rng.choice((443, 443, 80, 5432, 3306, 22, 3389, 8080))
    open_world = rng.random() < 0.2
    cidr = "0.0.0.0/0" if open_world else f"10.{rng.randrange(40)}.0.0/16"
    ipv6 = "::/0" if open_world and rng.random() < 0.5 else None
    choice = rng.randrange(6)
    response: Json | None = {"requestId": uuid4(rng), "_return": True}
    if choice == 4:
        name = "CreateSecurityGroup"
        params: Json = {
            "groupName": f"octank-{rng.getrandbits(16):04x}",
            "groupDescription": "app tier",
            "vpcId": scene.vpc,
        }
        response = {"requestId": uuid4(rng), "_return": True, "groupId": group}
    elif choice == 5:
        name, params = "DeleteSecurityGroup", {"groupId": group}
    else:
        name = (
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
        )[choice]
        params = {"groupId": group, "ipPermissions": ip_permissions(rng, port, cidr, ipv6)}
        if name.startswith("Authorize"):
            response = security_group_response(rng, group, scene.account, port, cidr)
    return api_record(
        scene,
        rng,
        actor,
        event_time,
        "ec2.amazonaws.com",
        name,
        params,
        response,
        read_only=False,
        version="1.09",
    )
