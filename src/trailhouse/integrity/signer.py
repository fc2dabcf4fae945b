"""Signed CloudTrail digest files for a local bucket copy, so the whole validation path runs offline.

`write_digests` does what CloudTrail does each hour for each trail and region: lists the log files
delivered in the hour with their SHA-256, links to the previous digest, and signs the result
(SHA256withRSA). The signature goes where a copy made by Trailhouse keeps S3's `signature`
metadata: a sidecar file `<digest key>.sig` (hex). It signs with Trailhouse's TEST key pair
(src/trailhouse/data/test-digest-key.pem), shipped so that generated buckets are reproducible;
it is not a secret and proves nothing about real CloudTrail logs.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from trailhouse.integrity.hashing import FileHash, hash_path
from trailhouse.integrity.public_keys import (
    PublicKey,
    fingerprint_of,
    public_der,
    public_keys_document,
    sign,
)
from trailhouse.model.digest import digest_key, string_to_sign
from trailhouse.model.keys import classify_key

TRAIL_NAME = "trailhouse-sample"
PUBLIC_KEYS_FILE = "public-keys.json"
SIGNATURE_SUFFIX = ".sig"
KEYS_VALID_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_HOUR = dt.timedelta(hours=1)


@cache
def sample_private_key() -> rsa.RSAPrivateKey:
    """Trailhouse's fixed TEST signing key (package data; not a secret, never used for real logs)."""
    data = resources.files("trailhouse").joinpath("data/test-digest-key.pem").read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@dataclass(frozen=True)
class SigningKey:
    """A private key and the time from which it signs (a rotation hands over at `valid_from`)."""

    private_key: rsa.RSAPrivateKey
    valid_from: dt.datetime = KEYS_VALID_FROM

    @property
    def der(self) -> bytes:
        return public_der(self.private_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.der)


@dataclass(frozen=True)
class _LogFile:
    key: str
    hour: dt.datetime
    trail: tuple[str, str, str, str]  # prefix, org, account, region


def _walk(root: Path) -> Iterator[_LogFile]:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            key = (Path(folder) / name).relative_to(root).as_posix()
            info = classify_key(key)
            if info.kind != "events" or not info.account or not info.delivered:
                continue
            delivered = dt.datetime.strptime(info.delivered[:11], "%Y%m%dT%H").replace(tzinfo=dt.UTC)
            prefix = key[: key.find("AWSLogs/")].rstrip("/")
            yield _LogFile(key, delivered, (prefix, info.org, info.account, info.region))


def _json_time(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_for(when: dt.datetime, keys: Sequence[SigningKey]) -> SigningKey:
    current = keys[0]
    for key in keys:
        if key.valid_from <= when:
            current = key
    return current


def _write_chain(
    root: Path,
    bucket: str,
    trail: tuple[str, str, str, str],
    files: list[_LogFile],
    hashes: dict[str, FileHash],
    keys: Sequence[SigningKey],
) -> int:
    prefix, org, account, region = trail
    by_hour: dict[dt.datetime, list[_LogFile]] = defaultdict(list)
    for item in files:
        by_hour[item.hour].append(item)
    first, last = min(by_hour), max(by_hour)
    previous: dict[str, Any] | None = None
    previous_sha = previous_signature = None
    written = 0
    start = first
    while start <= last:
        end = start + _HOUR
        key = digest_key(account=account, region=region, trail=TRAIL_NAME, end=end, org=org)
        key = f"{prefix}/{key}" if prefix else key
        listed = sorted(by_hour.get(start, []), key=lambda item: item.key)
        times = [hashes[item.key] for item in listed]
        oldest = min((h.oldest_event for h in times if h.oldest_event), default=None)
        newest = max((h.newest_event for h in times if h.newest_event), default=None)
        signing = _key_for(end, keys)
        digest: dict[str, Any] = {
            "awsAccountId": account,
            "digestStartTime": _json_time(start),
            "digestEndTime": _json_time(end),
            "digestS3Bucket": bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": signing.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": newest,
            "oldestEventTime": oldest,
            "previousDigestS3Bucket": bucket if previous else None,
            "previousDigestS3Object": previous["digestS3Object"] if previous else None,
            "previousDigestHashValue": previous_sha,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous_signature,
            "logFiles": [
                {
                    "s3Bucket": bucket,
                    "s3Object": item.key,
                    "hashValue": hashes[item.key].sha256,
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": hashes[item.key].newest_event,
                    "oldestEventTime": hashes[item.key].oldest_event,
                }
                for item in listed
            ],
        }
        raw = json.dumps(digest, separators=(",", ":")).encode()
        signature = sign(signing.private_key, string_to_sign(digest, raw))
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(raw, mtime=0))
        path.with_name(path.name + SIGNATURE_SUFFIX).write_text(signature + "\n")
        previous, previous_signature = digest, signature
        previous_sha = _sha256(raw)
        written += 1
        start = end
    return written


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_public_keys(path: Path, keys: Sequence[SigningKey]) -> None:
    """Write the ListPublicKeys-shaped file for the signing keys (validity windows hand over in order)."""
    public = []
    ordered = sorted(keys, key=lambda key: key.valid_from)
    for index, key in enumerate(ordered):
        until = ordered[index + 1].valid_from if index + 1 < len(ordered) else None
        public.append(PublicKey(key.fingerprint, key.der, key.valid_from, until))
    path.write_text(json.dumps(public_keys_document(public), indent=2) + "\n")


def write_digests(
    root: Path,
    *,
    bucket: str,
    signing_keys: Sequence[SigningKey] | None = None,
    workers: int | None = None,
) -> int:
    """Write signed, chained hourly digests for every trail's log files under `root`; returns digests written.

    Also writes `root/public-keys.json` (ListPublicKeys shape) for `trailhouse validate --public-keys`.
    `signing_keys` defaults to the TEST key; several keys simulate a rotation at each `valid_from`.
    """
    root = Path(root)
    keys = sorted(signing_keys or [SigningKey(sample_private_key())], key=lambda key: key.valid_from)
    files = list(_walk(root))
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) + 1)) as pool:
        results = pool.map(lambda item: hash_path(root / item.key, event_times=True), files)
        hashes = {item.key: result for item, result in zip(files, results, strict=True)}
    trails: dict[tuple[str, str, str, str], list[_LogFile]] = defaultdict(list)
    for item in files:
        trails[item.trail].append(item)
    written = sum(_write_chain(root, bucket, trail, trails[trail], hashes, keys) for trail in sorted(trails))
    write_public_keys(root / PUBLIC_KEYS_FILE, keys)
    return written
