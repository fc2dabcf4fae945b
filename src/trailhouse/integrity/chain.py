"""The digest chain of each trail: signatures, links to the previous digest, gaps and moved digests.

Given the digests a store holds (already read), this decides each digest's outcome:
- its signature, from the store (S3 metadata, a sidecar, the lake) or else from the next digest's
  `previousDigestSignature` (any signature that verifies proves the content is CloudTrail's);
- that it was signed by a known key valid at its end time (keys rotate);
- its link: the previous digest it names exists and has the SHA-256 it records;
- gaps: a named previous digest that is gone, and how many hourly digests are missing with it;
- moves: found somewhere other than where CloudTrail delivered it (still valid; said so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import InitVar, dataclass, field
from typing import Any

from trailhouse.integrity.outcomes import Finding, Status
from trailhouse.integrity.public_keys import KeyRing, verify_signature
from trailhouse.integrity.stores import Found, Store
from trailhouse.model.digest import DigestName, parse_digest_key, parse_time, string_to_sign
from trailhouse.model.keys import identity

_HOUR = dt.timedelta(hours=1)
NEXT_DIGEST = "next digest's previousDigestSignature"


@dataclass
class LoadedDigest:
    """One digest file as read from a store."""

    found: Found
    raw: InitVar[bytes | None]  # uncompressed content (None when gone); not kept, to bound memory
    digest: dict[str, Any] | None  # parsed; None when unreadable
    signature: str | None = None
    signature_source: str = ""
    error: str = ""  # why it could not be read
    present: bool = field(init=False)
    sha256: str = field(init=False)  # of the uncompressed content, as the next digest records it
    message: bytes = field(init=False)  # the string CloudTrail signed

    def __post_init__(self, raw: bytes | None) -> None:
        self.present = raw is not None
        self.sha256 = hashlib.sha256(raw).hexdigest() if raw is not None else ""
        self.message = string_to_sign(self.digest, raw) if raw is not None and self.digest else b""

    @property
    def claim(self) -> str:
        """Where CloudTrail says it delivered this digest (`digestS3Object`)."""
        return str(self.digest["digestS3Object"]) if self.digest else self.found.key

    @property
    def name(self) -> DigestName | None:
        return parse_digest_key(self.claim) or parse_digest_key(self.found.key)

    @property
    def end(self) -> dt.datetime | None:
        return parse_time(self.digest.get("digestEndTime")) if self.digest else None

    @property
    def start(self) -> dt.datetime | None:
        return parse_time(self.digest.get("digestStartTime")) if self.digest else None


@dataclass
class _Outcome:
    status: Status = "valid"
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def fail(self, status: Status, problem: str, detail: str) -> None:
        rank = {"valid": 0, "unverified": 1, "missing": 2, "invalid": 3}
        if rank[status] > rank[self.status]:
            self.status = status
        self.problems.append(problem)
        self.details.append(detail)


@dataclass(frozen=True)
class Gap:
    """A stretch of a trail whose digests are missing."""

    account: str
    region: str
    after: dt.datetime  # end of the last digest before the gap (or the range start)
    before: dt.datetime  # start of the first digest after it


@dataclass(frozen=True)
class ChainResult:
    """Findings for the digests, and facts for the summary."""

    findings: list[Finding]
    status_by_claim: dict[str, Status]  # digestS3Object -> outcome, for the log files it lists
    signature_sources: dict[str, int]
    fingerprints: tuple[str, ...]
    notes: tuple[str, ...]
    gaps: tuple[Gap, ...] = ()  # where digests are missing, to explain the log files they listed


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "?"


def _check_signature(item: LoadedDigest, successor: LoadedDigest | None, keys: KeyRing, out: _Outcome) -> str:
    """Verify the digest's signature; returns where the verifying signature came from ("" if none)."""
    assert item.digest is not None and item.present
    fingerprint = str(item.digest.get("digestPublicKeyFingerprint"))
    if len(keys) == 0:
        out.fail("unverified", "no public keys", "no public keys at hand to check the signature with")
        return ""
    key = keys.find(fingerprint)
    if key is None:
        out.fail(
            "invalid",
            "public key not found",
            f"no public key with fingerprint {fingerprint} among the {len(keys)} given; "
            "pass --public-keys with the region's keys (aws cloudtrail list-public-keys)",
        )
        return ""
    candidates: list[tuple[str, str]] = []
    if item.signature:
        candidates.append((item.signature, item.signature_source))
    if successor is not None and successor.digest is not None:
        previous = successor.digest.get("previousDigestSignature")
        if isinstance(previous, str) and previous != "null" and previous != item.signature:
            candidates.append((previous, NEXT_DIGEST))
    if not candidates:
        out.fail(
            "unverified",
            "no signature",
            "not in S3 metadata, no .sig sidecar, and no later digest names it; "
            "validate from S3, or copy the bucket with its metadata",
        )
        return ""
    message = item.message
    for signature, source in candidates:
        if verify_signature(key.der, message, signature):
            end = item.end
            if end is not None and not key.is_valid_at(end):
                out.fail(
                    "invalid",
                    "key not valid then",
                    f"signed with key {fingerprint}, valid {_when(key.valid_from)} to "
                    f"{_when(key.valid_until)}, but the digest ends {_when(end)}",
                )
            return source
    sources = " and ".join(source for _signature, source in candidates)
    out.fail("invalid", "signature verification failed", f"signature from the {sources}")
    return ""


def check_chains(
    loaded: list[LoadedDigest], keys: KeyRing, store: Store, *, range_start: dt.datetime | None = None
) -> ChainResult:
    """Check every digest's signature and links, trail by trail."""
    findings: list[Finding] = []
    outcomes: dict[int, _Outcome] = {}
    chains: dict[str, list[LoadedDigest]] = defaultdict(list)
    for item in loaded:
        if item.digest is None or not item.present:
            findings.append(
                Finding(
                    "digest",
                    "missing" if not item.present and not item.error else "invalid",
                    item.found.uri,
                    identity(item.found.key),
                    item.error,
                    "invalid format" if item.error else "not found",
                    identity(item.found.key),
                )
            )
            continue
        name = item.name
        chains[name.trail_id if name else "?"].append(item)
        outcomes[id(item)] = _Outcome()
    sources: dict[str, int] = defaultdict(int)
    fingerprints: set[str] = set()
    notes: list[str] = []
    gaps: list[Gap] = []
    for trail, chain in sorted(chains.items()):
        chain.sort(key=lambda item: (item.end or dt.datetime.min.replace(tzinfo=dt.UTC), item.claim))
        regular = [item for item in chain if not (item.name and item.name.is_backfill)]
        by_claim = {item.claim: item for item in regular}
        successor = {}
        for item in regular:
            assert item.digest is not None
            previous = item.digest.get("previousDigestS3Object")
            if isinstance(previous, str):
                successor[previous] = item
        for item in chain:
            out = outcomes[id(item)]
            source = _check_signature(item, successor.get(item.claim), keys, out)
            if source:
                sources[source] += 1
                fingerprints.add(str(item.digest.get("digestPublicKeyFingerprint")) if item.digest else "")
                out.details.append(f"signature from the {source}")
            assert item.digest is not None
            bucket = str(item.digest.get("digestS3Bucket"))
            if not store.is_where_delivered(item.found, bucket, item.claim):
                out.problems.append("moved")
                out.details.append(
                    f"found at {item.found.uri}; CloudTrail delivered it to s3://{bucket}/{item.claim}"
                )
            if item.name and item.name.is_backfill:
                out.details.append("backfill digest (checked on its own, outside the hourly chain)")
        missing = _check_links(regular, by_claim, outcomes, range_start, notes, trail, gaps)
        findings.extend(missing)
    status_by_claim: dict[str, Status] = {}
    for item in loaded:
        out_or_none = outcomes.get(id(item))
        if out_or_none is None:
            continue
        out = out_or_none
        status_by_claim[item.claim] = out.status
        findings.append(
            Finding(
                "digest",
                out.status,
                item.found.uri,
                identity(item.found.key),
                "; ".join(out.details),
                ", ".join(out.problems),
                identity(item.claim),
            )
        )
    return ChainResult(
        findings, status_by_claim, dict(sources), tuple(sorted(fingerprints)), tuple(notes), tuple(gaps)
    )


def _check_links(
    regular: list[LoadedDigest],
    by_claim: dict[str, LoadedDigest],
    outcomes: dict[int, _Outcome],
    range_start: dt.datetime | None,
    notes: list[str],
    trail: str,
    gaps: list[Gap],
) -> list[Finding]:
    """Each digest's link to its previous one: hash recorded, presence, and gaps."""
    missing: list[Finding] = []
    for index, item in enumerate(regular):
        assert item.digest is not None
        older = regular[index - 1] if index > 0 else None
        previous_key = item.digest.get("previousDigestS3Object")
        if not isinstance(previous_key, str):
            if older is not None:
                notes.append(
                    f"Trail {trail}: the chain starts again at {_when(item.start)}; CloudTrail made no "
                    f"digests after {_when(older.end)} (logging or validation was off)"
                )
            continue
        previous = by_claim.get(previous_key)
        if previous is not None:
            recorded = item.digest.get("previousDigestHashValue")
            if recorded != previous.sha256:
                outcomes[id(previous)].fail(
                    "invalid",
                    "hash value doesn't match",
                    f"its SHA-256 is {previous.sha256}; the next digest recorded {recorded}",
                )
            continue
        bucket = item.digest.get("previousDigestS3Bucket") or ""
        named = parse_digest_key(previous_key)
        named_end = (
            dt.datetime.strptime(named.time, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC) if named else None
        )
        if older is None and (range_start is None or (named_end is not None and named_end < range_start)):
            notes.append(
                f"Trail {trail}: the chain continues before {_when(item.start)} "
                "(earlier digests are outside the source or range; pass --start to require them)"
            )
            continue
        count = 1
        if older is not None and older.end is not None and item.start is not None:
            count = max(1, round((item.start - older.end) / _HOUR))
        after = _when(older.end) if older is not None else "the range start"
        name = item.name
        low = older.end if older is not None else range_start
        if name is not None and low is not None and item.start is not None:
            gaps.append(Gap(name.account, name.region, low, item.start))
        missing.append(
            Finding(
                "digest",
                "missing",
                f"s3://{bucket}/{previous_key}" if bucket else previous_key,
                identity(previous_key),
                f"{count} digest(s) missing between {after} and {_when(item.start)}; "
                f"the digest {identity(item.claim)} links to this one",
                "not found" if count == 1 else "gap in the chain",
                identity(previous_key),
                count,
            )
        )
    return missing
