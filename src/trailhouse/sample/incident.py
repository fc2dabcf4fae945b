"""The built-in incident every sample carries, and its facts as constants for tests and the demo.

On the last day, in the first account and first region (us-east-1): IAM user "mallory" signs in to
the console without MFA from a Tor exit address in Germany (no other record of the sample comes from
Germany), opens SSH (port 22) to 0.0.0.0/0 on a security group ten minutes later, then the root
user signs in from the same address, creates an access key and stops CloudTrail logging.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from trailhouse.sample.identities import AGENT_CONSOLE, AGENTS_BROWSER, Actor, iam_id
from trailhouse.sample.scene import Scene, api_record, uuid4
from trailhouse.sample.security import console_login, ip_permissions, security_group_response

Json = dict[str, Any]

USER = "mallory"
IP = "185.220.101.23"  # a Tor exit node; GeoLite2 country DE, used by no other record
COUNTRY = "DE"
REGION = "us-east-1"
SECURITY_GROUP_ID = "sg-0badc0ffee1234567"
PORT = 22
CIDR = "0.0.0.0/0"
TRAIL_NAME = "octank-org-trail"

# Times of day (UTC) on the last day of the sample.
LOGIN_AT = time(2, 13, 7)  # mallory: ConsoleLogin, MFAUsed "No"
DESCRIBE_AT = time(2, 19, 48)  # mallory: DescribeSecurityGroups
INGRESS_AT = time(2, 23, 41)  # mallory: AuthorizeSecurityGroupIngress tcp/22 from 0.0.0.0/0
ROOT_LOGIN_AT = time(2, 31, 55)  # root: ConsoleLogin, MFAUsed "No"
ROOT_KEY_AT = time(2, 33, 10)  # root: CreateAccessKey (for the root user itself)
STOP_LOGGING_AT = time(2, 36, 2)  # root: StopLogging

EVENT_NAMES = (
    "ConsoleLogin",
    "DescribeSecurityGroups",
    "AuthorizeSecurityGroupIngress",
    "ConsoleLogin",
    "CreateAccessKey",
    "StopLogging",
)
EVENT_COUNT = len(EVENT_NAMES)


@dataclass(frozen=True)
class Incident:
    """Where and when the incident happens in one sample."""

    account: str
    region: str
    day: date
    login_time: datetime
    ingress_time: datetime
    root_login_time: datetime
    stop_logging_time: datetime


def incident_day(start: date, days: int) -> date:
    return start + timedelta(days=days - 1)


def locate(account: str, start: date, days: int) -> Incident:
    """The incident of a sample whose first account is `account`."""
    day = incident_day(start, days)

    def at(moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=UTC)

    return Incident(
        account, REGION, day, at(LOGIN_AT), at(INGRESS_AT), at(ROOT_LOGIN_AT), at(STOP_LOGGING_AT)
    )


def _mallory(account: str, signed_in: str) -> Actor:
    rng = random.Random(f"incident/{account}")
    principal = iam_id(rng, "AIDA")
    arn = f"arn:aws:iam::{account}:user/{USER}"
    console = Actor(
        "IAMUser",
        USER,
        {
            "type": "IAMUser",
            "principalId": principal,
            "arn": arn,
            "accountId": account,
            "accessKeyId": iam_id(rng, "ASIA"),
            "userName": USER,
        },
        (IP,),
        (AGENT_CONSOLE,),
        issuer={},
        mfa="false",
        created=signed_in,
    )
    return console


def records(scene: Scene, start: date, days: int) -> list[tuple[int, Json]]:
    """The incident's records as (epoch second, record), in time order."""
    incident = locate(scene.account, start, days)
    rng = random.Random(f"incident/{scene.account}/{incident.day}")

    def stamp(moment: time) -> tuple[int, str]:
        when = datetime.combine(incident.day, moment, tzinfo=UTC)
        return int(when.timestamp()), when.strftime("%Y-%m-%dT%H:%M:%SZ")

    mallory = _mallory(scene.account, stamp(LOGIN_AT)[1])
    root = scene.cast.others["Root"]
    root = Actor(
        root.kind,
        root.name,
        root.identity,
        (IP,),
        (AGENT_CONSOLE,),
        issuer={},
        mfa="false",
        created=stamp(ROOT_LOGIN_AT)[1],
    )

    out: list[tuple[int, Json]] = []
    second, text = stamp(LOGIN_AT)
    login = console_login(scene, rng, text, mallory, success=True, mfa=False, ip=IP)
    login["userAgent"] = AGENTS_BROWSER[1]
    out.append((second, login))

    second, text = stamp(DESCRIBE_AT)
    out.append(
        (
            second,
            api_record(
                scene,
                rng,
                mallory,
                text,
                "ec2.amazonaws.com",
                "DescribeSecurityGroups",
                {"securityGroupSet": {}, "filterSet": {}},
            ),
        )
    )

    second, text = stamp(INGRESS_AT)
    params = {"groupId": SECURITY_GROUP_ID, "ipPermissions": ip_permissions(rng, PORT, CIDR)}
    response = security_group_response(rng, SECURITY_GROUP_ID, scene.account, PORT, CIDR)
    out.append(
        (
            second,
            api_record(
                scene,
                rng,
                mallory,
                text,
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                params,
                response,
                read_only=False,
            ),
        )
    )

    second, text = stamp(ROOT_LOGIN_AT)
    out.append((second, console_login(scene, rng, text, root, success=True, mfa=False, ip=IP)))

    second, text = stamp(ROOT_KEY_AT)
    key = {
        "accessKey": {
            "accessKeyId": iam_id(rng, "AKIA"),
            "status": "Active",
            "createDate": text.replace("T", " ").rstrip("Z"),
        }
    }
    created = api_record(
        scene,
        rng,
        root,
        text,
        "iam.amazonaws.com",
        "CreateAccessKey",
        None,
        key,
        read_only=False,
        version="1.08",
        host="iam.amazonaws.com",
    )
    out.append((second, created))

    second, text = stamp(STOP_LOGGING_AT)
    trail = f"arn:aws:cloudtrail:{REGION}:{scene.account}:trail/{TRAIL_NAME}"
    stop = api_record(
        scene,
        rng,
        root,
        text,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        {"name": trail},
        None,
        read_only=False,
        version="1.11",
    )
    stop["resources"] = [{"accountId": scene.account, "type": "AWS::CloudTrail::Trail", "ARN": trail}]
    out.append((second, stop))
    for _, record in out:
        record["eventID"] = uuid4(rng)
    return out
