"""Who acts in a sample account: people, roles, services and strangers, as CloudTrail userIdentity blocks.

Source addresses come from a few countries only (US, GB, SE, JP, IN) plus private 10.x addresses and
AWS service names, so the built-in incident's address (see incident.py) is the only one in its country.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

# Public ranges whose country is unambiguous: (first two or three octets, country).
HOME_PREFIXES = (
    ("73.15", "US"),
    ("73.162", "US"),
    ("216.160.83", "US"),
    ("81.2.69", "GB"),
    ("89.160.20", "SE"),
    ("126.209", "JP"),
    ("49.36.128", "IN"),
)
# NAT gateway addresses of workloads in us-east-1 and eu-west-1 (US and IE).
WORKLOAD_PREFIXES = ("3.85", "44.204", "54.152", "34.242", "52.210")

AGENT_CLI = (
    "aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.7 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{cmd}"
)
AGENTS_SDK = (
    "Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227-219.884.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.11.10 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54",
    "aws-sdk-java/2.29.6 Linux/5.10.227-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
    "Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard",
    "aws-sdk-js/3.687.0 ua/2.1 os/linux#5.10.227-219.884.amzn2.x86_64 lang/js md/nodejs#20.18.0 "
    "api/s3#3.687.0 m/E,N",
    "aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/sts#1.32.3",
)
AGENT_TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.74.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux "
    "lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64"
)
AGENTS_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
)
AGENT_CONSOLE = "AWS Internal"

PEOPLE = ("alice", "bob", "carol", "dmitri", "erin", "farah", "gustavo", "hiro", "ingrid", "jamal")
WORKLOAD_ROLES = (
    ("orders-api-task", "ecs-tasks.amazonaws.com"),
    ("etl-nightly-job", "glue.amazonaws.com"),
    ("ingest-lambda-role", "lambda.amazonaws.com"),
    ("eks-node-group", "ec2.amazonaws.com"),
    ("reporting-batch", "batch.amazonaws.com"),
)
SERVICES = (
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "config.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "ssm.amazonaws.com",
    "access-analyzer.amazonaws.com",
)
SSO_PERMISSION_SETS = ("AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess")
IDENTITY_STORE = "d-9067c1a2b3"
SAML_PROVIDER = "OktaSSO"
GITHUB_OIDC = "token.actions.githubusercontent.com"

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def iam_id(rng: random.Random, prefix: str) -> str:
    """An IAM unique id (AIDA..., AROA...: 21 chars) or access key id (AKIA..., ASIA...: 20 chars)."""
    length = 17 if prefix in ("AIDA", "AROA", "AGPA", "ANPA") else 16
    return prefix + "".join(rng.choices(_UPPER, k=length))


def ip_in(rng: random.Random, prefix: str) -> str:
    """A host address inside a prefix of two or three octets."""
    parts = prefix.split(".")
    while len(parts) < 4:
        parts.append(str(rng.randrange(1, 255)))
    return ".".join(parts)


def private_ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(0, 40)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"


@dataclass(frozen=True)
class Actor:
    """One principal: its userIdentity (without session times), and where and how it calls from."""

    kind: str  # userIdentity.type
    name: str
    identity: Json
    ips: tuple[str, ...]
    agents: tuple[str, ...]
    issuer: Json | None = None  # sessionContext.sessionIssuer, for temporary credentials
    mfa: str = "false"
    created: str = ""  # when the session began; "" for the top of the hour of each call

    def who(self, event_time: str) -> Json:
        """The userIdentity block at `event_time`."""
        if self.issuer is None:
            return self.identity
        created = self.created or event_time[:14] + "00:00Z"
        context = {
            "sessionIssuer": self.issuer,
            "attributes": {"creationDate": created, "mfaAuthenticated": self.mfa},
        }
        if self.kind == "AssumedRole":
            context = {"sessionIssuer": self.issuer, "webIdFederationData": {}, **context}
        return {**self.identity, "sessionContext": context}


@dataclass(frozen=True)
class Cast:
    """Everyone and everything that acts in one account."""

    account: str
    users: tuple[Actor, ...]  # IAM users with access keys (CLI, SDK, Terraform)
    consoles: tuple[Actor, ...]  # the same people, signed in to the console
    workloads: tuple[Actor, ...]  # roles assumed by applications
    sso: tuple[Actor, ...]  # Identity Center permission-set roles
    services: tuple[Actor, ...]  # AWS services acting for the account
    others: dict[str, Actor] = field(default_factory=dict)  # one of each remaining identity type
    role_arns: tuple[str, ...] = ()


def _user(rng: random.Random, account: str, name: str, home: str) -> tuple[Actor, Actor]:
    principal = iam_id(rng, "AIDA")
    base = {"type": "IAMUser", "principalId": principal, "arn": f"arn:aws:iam::{account}:user/{name}"}
    ips = (ip_in(rng, home), ip_in(rng, home))
    key_user = Actor(
        "IAMUser",
        name,
        {**base, "accountId": account, "accessKeyId": iam_id(rng, "AKIA"), "userName": name},
        ips,
        (
            AGENT_CLI.format(cmd=rng.choice(("s3.ls", "ec2.describe-instances", "sts.get-caller-identity"))),
            AGENT_TERRAFORM,
            rng.choice(AGENTS_SDK),
        ),
    )
    console_user = Actor(
        "IAMUser",
        name,
        {**base, "accountId": account, "accessKeyId": iam_id(rng, "ASIA"), "userName": name},
        ips,
        (AGENT_CONSOLE,),
        issuer={},
        mfa="true",
    )
    return key_user, console_user


def _role_session(
    rng: random.Random, account: str, role: str, session: str, ips: tuple[str, ...], agents: tuple[str, ...]
) -> Actor:
    role_id = iam_id(rng, "AROA")
    issuer = {
        "type": "Role",
        "principalId": role_id,
        "arn": f"arn:aws:iam::{account}:role/{role}",
        "accountId": account,
        "userName": role.rsplit("/", 1)[-1],
    }
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role.rsplit('/', 1)[-1]}/{session}",
        "accountId": account,
        "accessKeyId": iam_id(rng, "ASIA"),
    }
    return Actor("AssumedRole", session, identity, ips, agents, issuer=issuer)


def _service(name: str) -> Actor:
    return Actor("AWSService", name, {"type": "AWSService", "invokedBy": name}, (name,), (name,))


def _others(rng: random.Random, account: str, partner: str, homes: list[str]) -> dict[str, Actor]:
    home = homes[0]
    person = rng.choice(PEOPLE)
    root = Actor(
        "Root",
        "root",
        {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": iam_id(rng, "ASIA"),
        },
        (ip_in(rng, home),),
        (AGENT_CONSOLE,),
        issuer={},
        mfa="true",
    )
    federator = iam_id(rng, "AIDA")
    federated = Actor(
        "FederatedUser",
        "build-bot",
        {
            "type": "FederatedUser",
            "principalId": f"{account}:build-bot",
            "arn": f"arn:aws:sts::{account}:federated-user/build-bot",
            "accountId": account,
            "accessKeyId": iam_id(rng, "ASIA"),
        },
        (ip_in(rng, WORKLOAD_PREFIXES[0]),),
        (AGENTS_SDK[0],),
        issuer={
            "type": "IAMUser",
            "principalId": federator,
            "arn": f"arn:aws:iam::{account}:user/federator",
            "accountId": account,
            "userName": "federator",
        },
    )
    partner_actor = Actor(
        "AWSAccount",
        partner,
        {"type": "AWSAccount", "principalId": iam_id(rng, "AIDA"), "accountId": partner},
        (ip_in(rng, WORKLOAD_PREFIXES[1]),),
        (AGENTS_SDK[1],),
    )
    idp = "".join(rng.choices(_UPPER, k=28)) + "="
    saml = Actor(
        "SAMLUser",
        f"{person}@octank.example",
        {
            "type": "SAMLUser",
            "principalId": f"{idp}:{person}@octank.example",
            "userName": f"{person}@octank.example",
            "identityProvider": idp,
        },
        (ip_in(rng, home),),
        (AGENT_CONSOLE,),
    )
    subject = "repo:octank/platform:ref:refs/heads/main"
    web = Actor(
        "WebIdentityUser",
        subject,
        {
            "type": "WebIdentityUser",
            "principalId": f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}:sts.amazonaws.com:{subject}",
            "userName": subject,
            "identityProvider": f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}",
        },
        ("20.57.78.14", "4.227.33.178"),
        ("aws-sdk-nodejs/2.1692.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise",),
    )
    # Identity Center user ids look like UUIDs whose third group starts with "70".
    bits = f"{rng.getrandbits(116):029x}"
    center_user = f"{bits[:8]}-{bits[8:12]}-70{bits[12:14]}-a{bits[14:17]}-{bits[17:29]}"
    center = Actor(
        "IdentityCenterUser",
        center_user,
        {
            "type": "IdentityCenterUser",
            "accountId": account,
            "onBehalfOf": {
                "userId": center_user,
                "identityStoreArn": f"arn:aws:identitystore::{account}:identitystore/{IDENTITY_STORE}",
            },
            "credentialId": "".join(rng.choices(_UPPER, k=32)),
        },
        (ip_in(rng, home),),
        (AGENTS_BROWSER[0],),
    )
    unknown = Actor(
        "Unknown",
        f"{person}@octank.example",
        {
            "type": "Unknown",
            "principalId": center_user,
            "accountId": account,
            "userName": f"{person}@octank.example",
        },
        (ip_in(rng, home),),
        (AGENTS_BROWSER[1],),
    )
    return {a.kind: a for a in (root, federated, partner_actor, saml, web, center, unknown)}


def make_cast(seed: int, account: str, partner: str, people: tuple[str, ...] = PEOPLE) -> Cast:
    """The cast of one account, the same for the same seed and account."""
    rng = random.Random(f"{seed}/cast/{account}")
    homes = [prefix for prefix, _ in HOME_PREFIXES]
    rng.shuffle(homes)
    users, consoles = [], []
    for index, name in enumerate(people[: rng.randrange(5, len(people) + 1)]):
        key_user, console_user = _user(rng, account, name, homes[index % 3])
        users.append(key_user)
        consoles.append(console_user)
    workloads = []
    role_arns = []
    for role, service in WORKLOAD_ROLES:
        ips = (private_ip(rng), private_ip(rng), ip_in(rng, rng.choice(WORKLOAD_PREFIXES)))
        agents = (rng.choice(AGENTS_SDK), rng.choice(AGENTS_SDK))
        for _ in range(2):
            session = (
                f"{role}-{rng.getrandbits(40):010x}"
                if service != "ec2.amazonaws.com"
                else (f"i-0{rng.getrandbits(64):016x}")
            )
            workloads.append(_role_session(rng, account, role, session, ips, agents))
        role_arns.append(f"arn:aws:iam::{account}:role/{role}")
    sso = []
    for person in people[:4]:
        permission_set = rng.choice(SSO_PERMISSION_SETS)
        role = f"aws-reserved/sso.amazonaws.com/AWSReservedSSO_{permission_set}_{rng.getrandbits(64):016x}"
        home = homes[rng.randrange(3)]
        actor = _role_session(
            rng,
            account,
            role,
            f"{person}@octank.example",
            (ip_in(rng, home),),
            (AGENT_CONSOLE, AGENT_CLI.format(cmd="sso.login")),
        )
        sso.append(actor)
    services = tuple(_service(name) for name in SERVICES)
    return Cast(
        account=account,
        users=tuple(users),
        consoles=tuple(consoles),
        workloads=tuple(workloads),
        sso=tuple(sso),
        services=services,
        others=_others(rng, account, partner, homes),
        role_arns=tuple(role_arns),
    )


IDENTITY_TYPES = (
    "Root",
    "IAMUser",
    "AssumedRole",
    "FederatedUser",
    "AWSAccount",
    "AWSService",
    "IdentityCenterUser",
    "WebIdentityUser",
    "SAMLUser",
    "Unknown",
)
