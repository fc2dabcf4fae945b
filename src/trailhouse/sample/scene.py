"""One account in one region of a sample: its cast, its resources, and the fields every record shares."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from trailhouse.sample.identities import Actor, Cast, make_cast

Json = dict[str, Any]

TABLES = ("sales", "orders", "clickstream", "inventory")
APPS = ("orders-api", "thumbnailer", "ingest-events", "billing-export", "auth-hooks")


_UUID_MASK = ~((0xF << 76) | (0x3 << 62))
_UUID_BITS = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng` (so the sample stays deterministic)."""
    h = f"{rng.getrandbits(128) & _UUID_MASK | _UUID_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def request_id(rng: random.Random) -> str:
    """The short request id S3 gives (16 upper-case characters)."""
    return f"{rng.getrandbits(64):016X}"


@dataclass(frozen=True)
class Scene:
    """Everything a record builder needs about its account and region."""

    account: str
    region: str
    cast: Cast
    buckets: tuple[str, ...]
    functions: tuple[str, ...]
    kms_keys: tuple[str, ...]
    security_groups: tuple[str, ...]
    vpc: str
    s3_endpoint: str  # vpce id of the S3 gateway endpoint
    kms_endpoint: str
    amz_ids: tuple[str, ...]  # a pool of x-amz-id-2 values
    tokens: tuple[str, ...]  # a pool of session tokens
    _tls: dict[str, Json] = field(default_factory=dict)

    def tls(self, host: str) -> Json:
        """The tlsDetails block for a call to `host` (shared: it is never mutated)."""
        block = self._tls.get(host)
        if block is None:
            block = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": host,
            }
            self._tls[host] = block
        return block

    def endpoint(self, service: str) -> str:
        return f"{service}.{self.region}.amazonaws.com"


def _hex_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-0{rng.getrandbits(64):016x}"


@lru_cache(maxsize=256)
def make_scene(seed: int, accounts: tuple[str, ...], account_index: int, region: str) -> Scene:
    """The scene of one account and region; cached per process, the same for the same seed."""
    account = accounts[account_index]
    partner = accounts[(account_index + 1) % len(accounts)] if len(accounts) > 1 else "999988887777"
    cast = make_cast(seed, account, partner)
    rng = random.Random(f"{seed}/scene/{account}/{region}")
    short = account[-4:]
    buckets = (
        f"octank-datalake-{account}-{region}",
        f"octank-web-assets-{short}",
        f"octank-backups-{account}",
        f"octank-logs-{short}-{region}",
    )
    functions = tuple(f"arn:aws:lambda:{region}:{account}:function:{app}" for app in APPS)
    kms_keys = tuple(f"arn:aws:kms:{region}:{account}:key/{uuid4(rng)}" for _ in range(3))
    groups = tuple(_hex_id(rng, "sg") for _ in range(6))
    amz_ids = tuple(base64.b64encode(rng.randbytes(57)).decode() for _ in range(64))
    tokens = tuple("IQoJb3JpZ2luX2VjE" + base64.b64encode(rng.randbytes(300)).decode() for _ in range(32))
    return Scene(
        account=account,
        region=region,
        cast=cast,
        buckets=buckets,
        functions=functions,
        kms_keys=kms_keys,
        security_groups=groups,
        vpc=_hex_id(rng, "vpc"),
        s3_endpoint=_hex_id(rng, "vpce"),
        kms_endpoint=_hex_id(rng, "vpce"),
        amz_ids=amz_ids,
        tokens=tokens,
    )


def api_record(
    scene: Scene,
    rng: random.Random,
    actor: Actor,
    event_time: str,
    source: str,
    name: str,
    params: Json | None,
    response: Json | None = None,
    *,
    read_only: bool = True,
    version: str = "1.09",
    host: str | None = None,
) -> Json:
    """A management AwsApiCall record with CloudTrail's own field order."""
    record: Json = {
        "eventVersion": version,
        "userIdentity": actor.who(event_time),
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": scene.region,
        "sourceIPAddress": actor.ips[int(rng.random() * len(actor.ips))],
        "userAgent": actor.agents[int(rng.random() * len(actor.agents))],
        "requestParameters": params,
        "responseElements": response,
        "requestID": uuid4(rng),
        "eventID": uuid4(rng),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": scene.account,
        "eventCategory": "Management",
    }
    if actor.kind != "AWSService":
        record["tlsDetails"] = scene.tls(host or scene.endpoint(source.split(".", 1)[0]))
    return record
