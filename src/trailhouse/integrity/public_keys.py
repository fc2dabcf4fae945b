"""CloudTrail's public keys: loading them (ListPublicKeys JSON, API, lake cache), checking signatures.

CloudTrail signs digests with a per-region key pair that it rotates; `ListPublicKeys` returns each
public key (base64 DER, PKCS #1) with its validity window and fingerprint, and each digest names
the fingerprint of the key that signed it (`digestPublicKeyFingerprint`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trailhouse.errors import IntegrityError

if TYPE_CHECKING:
    from trailhouse.lake import Lake

KEYS_TABLE = "public_keys"
KEYS_SCHEMA = pa.schema(
    [
        ("Fingerprint", pa.string()),
        ("Value", pa.string()),  # base64 DER, as ListPublicKeys returns it
        ("ValidityStartTime", pa.timestamp("us", tz="UTC")),
        ("ValidityEndTime", pa.timestamp("us", tz="UTC")),
        ("region", pa.string()),  # where it was fetched ("" from a file)
        ("fetched_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class PublicKey:
    """One CloudTrail public key and when it signs."""

    fingerprint: str
    der: bytes
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    region: str = ""

    def is_valid_at(self, when: dt.datetime) -> bool:
        if self.valid_from is not None and when < self.valid_from:
            return False
        return not (self.valid_until is not None and when > self.valid_until)


def fingerprint_of(der: bytes) -> str:
    """The fingerprint of Trailhouse's own (test) keys: MD5 hex of the DER, 32 chars like CloudTrail's."""
    return hashlib.md5(der, usedforsecurity=False).hexdigest()


def public_der(private_key: rsa.RSAPrivateKey) -> bytes:
    """The PKCS #1 DER of a private key's public half (the form ListPublicKeys returns)."""
    return private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def _time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def keys_from_response(document: Mapping[str, Any], *, region: str = "", origin: str = "") -> list[PublicKey]:
    """Keys from a ListPublicKeys response (`Value` as base64 text, or bytes as boto3 gives it)."""
    items = document.get("PublicKeyList")
    if not isinstance(items, list):
        raise IntegrityError(
            f"Public keys from '{origin}' have no PublicKeyList\n"
            "Expected the JSON of 'aws cloudtrail list-public-keys': "
            '{"PublicKeyList": [{"Value", "ValidityStartTime", "ValidityEndTime", "Fingerprint"}]}.'
        )
    keys = []
    for item in items:
        try:
            value = item["Value"]
            der = value if isinstance(value, bytes) else base64.b64decode(value, validate=True)
            keys.append(
                PublicKey(
                    fingerprint=str(item["Fingerprint"]),
                    der=der,
                    valid_from=_time(item.get("ValidityStartTime")),
                    valid_until=_time(item.get("ValidityEndTime")),
                    region=region,
                )
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise IntegrityError(
                f"A public key in '{origin}' cannot be read ({type(error).__name__}: {error})\n"
                "Each entry needs Value (base64 DER) and Fingerprint; re-export the file with "
                "'aws cloudtrail list-public-keys'."
            ) from None
    return keys


def load_public_keys(path: Path) -> list[PublicKey]:
    """Keys from a JSON file in the shape ListPublicKeys returns."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise IntegrityError(
            f"Public keys file '{path}' does not exist\n"
            "Pass --public-keys with the output of 'aws cloudtrail list-public-keys', "
            "or the public-keys.json that 'trailhouse sample' wrote."
        ) from None
    except ValueError as error:
        raise IntegrityError(
            f"Public keys file '{path}' is not JSON ({error})\n"
            "Re-export it with 'aws cloudtrail list-public-keys > keys.json'."
        ) from None
    if not isinstance(document, dict):
        raise IntegrityError(
            f"Public keys file '{path}' is not a JSON object\n"
            "Expected {\"PublicKeyList\": [...]}, as 'aws cloudtrail list-public-keys' prints."
        )
    return keys_from_response(document, origin=str(path))


def public_keys_document(keys: Iterable[PublicKey]) -> dict[str, Any]:
    """The ListPublicKeys JSON shape of some keys (to write a --public-keys file)."""

    def text(when: dt.datetime | None) -> str | None:
        return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(key.der).decode(),
                "ValidityStartTime": text(key.valid_from),
                "ValidityEndTime": text(key.valid_until),
                "Fingerprint": key.fingerprint,
            }
            for key in keys
        ]
    }


class KeyRing:
    """The public keys at hand, by fingerprint."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys: dict[str, PublicKey] = {}
        for key in keys:
            self._keys.setdefault(key.fingerprint, key)

    def __len__(self) -> int:
        return len(self._keys)

    def public_keys(self) -> list[PublicKey]:
        return list(self._keys.values())

    def add(self, keys: Iterable[PublicKey]) -> None:
        for key in keys:
            self._keys.setdefault(key.fingerprint, key)

    def find(self, fingerprint: str) -> PublicKey | None:
        return self._keys.get(fingerprint)


def verify_signature(der: bytes, message: bytes, signature_hex: str) -> bool:
    """True when `signature_hex` is a SHA256withRSA (PKCS #1 v1.5) signature of `message` by the key."""
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    key = serialization.load_der_public_key(der)
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    """The hex SHA256withRSA signature of `message` (as CloudTrail stores it in S3 metadata)."""
    return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


def cache_public_keys(lake: Lake, keys: Sequence[PublicKey]) -> int:
    """Keep keys in the lake (table `public_keys`) so later runs validate offline; returns keys added."""
    known = {key.fingerprint for key in cached_public_keys(lake)}
    new = [key for key in keys if key.fingerprint not in known]
    if not new:
        return 0
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "Fingerprint": key.fingerprint,
            "Value": base64.b64encode(key.der).decode(),
            "ValidityStartTime": key.valid_from,
            "ValidityEndTime": key.valid_until,
            "region": key.region,
            "fetched_at": now,
        }
        for key in new
    ]
    table = pa.Table.from_pylist(rows, schema=KEYS_SCHEMA)
    lake.append(KEYS_TABLE, table, metadata={"public_keys": len(new)})
    return len(new)


def cached_public_keys(lake: Lake) -> list[PublicKey]:
    """The keys kept in the lake by earlier runs."""
    table = lake.read(KEYS_TABLE)
    if table is None:
        return []
    return [
        PublicKey(
            fingerprint=row["Fingerprint"],
            der=base64.b64decode(row["Value"]),
            valid_from=row["ValidityStartTime"],
            valid_until=row["ValidityEndTime"],
            region=row["region"] or "",
        )
        for row in table.to_pylist()
    ]
