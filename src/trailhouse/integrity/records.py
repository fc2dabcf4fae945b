"""Validation outcomes in the lake (`validations`), and validating the objects the lake has recorded.

One row per finding: source_object, kind (log|digest), status (valid|invalid|unverified|missing),
detail, digest_object, validated_at. The latest row per source_object wins, so the `ledger` and
`cloudtrail_digests` views can say "this event came from a verified file".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from trailhouse.errors import SourceError
from trailhouse.integrity.chain import LoadedDigest
from trailhouse.integrity.outcomes import Finding, ValidationSummary
from trailhouse.integrity.public_keys import (
    KeyRing,
    PublicKey,
    cache_public_keys,
    cached_public_keys,
    keys_from_response,
    load_public_keys,
)
from trailhouse.integrity.stores import LakeStore
from trailhouse.integrity.validator import (
    Scope,
    digest_regions,
    needed_fingerprints,
    require_keys,
    validate,
)
from trailhouse.lake import Lake

VALIDATIONS = "validations"
VALIDATIONS_SCHEMA = pa.schema(
    [
        ("source_object", pa.string()),
        ("kind", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("digest_object", pa.string()),
        ("validated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def latest_validations(lake: Lake) -> dict[str, tuple[str, str]]:
    """source_object -> (status, detail) of its latest validation."""
    table = lake.read(VALIDATIONS)
    if table is None:
        return {}
    latest: dict[str, tuple[dt.datetime, str, str]] = {}
    for row in table.to_pylist():
        seen = latest.get(row["source_object"])
        if seen is None or row["validated_at"] >= seen[0]:
            latest[row["source_object"]] = (row["validated_at"], row["status"], row["detail"] or "")
    return {source: (status, detail) for source, (_at, status, detail) in latest.items()}


class Recorder:
    """A finding sink that appends to `validations` in batches (only outcomes that changed, by default)."""

    def __init__(self, lake: Lake, source: str, *, only_changed: bool = True, batch: int = 50_000) -> None:
        self.lake = lake
        self.source = source
        self.batch = batch
        self.before = latest_validations(lake) if only_changed else {}
        self.now = dt.datetime.now(dt.UTC)
        self.rows: list[dict[str, object]] = []
        self.written = 0

    def __call__(self, finding: Finding) -> None:
        detail = ", ".join(part for part in (finding.problem, finding.detail) if part)
        if self.before.get(finding.source_object) == (finding.status, detail):
            return
        self.rows.append(
            {
                "source_object": finding.source_object,
                "kind": finding.kind,
                "status": finding.status,
                "detail": detail,
                "digest_object": finding.digest_object,
                "validated_at": self.now,
            }
        )
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            table = pa.Table.from_pylist(self.rows, schema=VALIDATIONS_SCHEMA)
            metadata = {"validations": len(self.rows), "source": self.source}
            self.lake.append(VALIDATIONS, table, metadata=metadata)
            self.written += len(self.rows)
            self.rows = []


def record_validations(lake: Lake, summary: ValidationSummary, *, only_changed: bool = True) -> int:
    """Append a summary's findings to `validations` (by default only those whose outcome changed)."""
    recorder = Recorder(lake, summary.source, only_changed=only_changed)
    for finding in summary.findings:
        recorder(finding)
    recorder.flush()
    return recorder.written


def key_finder(
    *,
    public_keys: Path | None,
    lake: Lake | None,
    online: bool,
    required: bool,
) -> Callable[[list[LoadedDigest]], KeyRing]:
    """The public keys for the digests read: a file, the lake's cache, then CloudTrail (online), in order.

    Keys fetched from a file or from CloudTrail are cached in the lake (when there is one).
    """

    def find(loaded: list[LoadedDigest]) -> KeyRing:
        looked = []
        ring = KeyRing()
        fresh: list[PublicKey] = []
        if public_keys is not None:
            looked.append(str(public_keys))
            fresh.extend(load_public_keys(public_keys))
            ring.add(fresh)
        if lake is not None:
            looked.append(f"the lake's {lake.uri('public_keys')}")
            ring.add(cached_public_keys(lake))
        wanted = needed_fingerprints(loaded)
        if online and public_keys is None and any(ring.find(fp) is None for fp in wanted):
            fetched = _fetch(loaded)
            looked.append("CloudTrail ListPublicKeys")
            fresh.extend(fetched)
            ring.add(fetched)
        if lake is not None and fresh:
            cache_public_keys(lake, fresh)
        return require_keys(ring, loaded, ", ".join(looked) or "nowhere") if required else ring

    return find


def _fetch(loaded: list[LoadedDigest]) -> list[PublicKey]:
    from trailhouse.sources import digest_objects

    ends = [item.end for item in loaded if item.end is not None]
    if not ends:
        return []
    start, end = min(ends) - dt.timedelta(days=1), max(ends) + dt.timedelta(days=1)
    keys: list[PublicKey] = []
    for region in sorted(digest_regions(loaded)):
        try:
            response = digest_objects.list_public_keys(region, start, end)
        except SourceError:
            continue  # offline: the keys at hand decide, and the summary names what is missing
        keys.extend(keys_from_response(response, region=region, origin=f"ListPublicKeys {region}"))
    return keys


def validate_lake(
    lake: Lake,
    *,
    public_keys: Path | None = None,
    scope: Scope | None = None,
    workers: int | None = None,
    online: bool | None = None,
    record: bool = True,
    only_new: bool = False,
) -> ValidationSummary:
    """Validate the digests and log files recorded in the lake, and record the outcomes in `validations`.

    `only_new`: log files already recorded valid are not hashed again, and digests older than the
    oldest one not yet valid are not re-read (see `_pending_start`).
    `online`: may ask CloudTrail for public keys (default: when the digests came from S3).
    """
    store = LakeStore(lake)
    skip: set[str] = set()
    if only_new:
        latest = latest_validations(lake)
        skip = {source for source, (status, _d) in latest.items() if status == "valid"}
        if scope is None or scope.start is None:
            scope = replace(scope or Scope(), start=_pending_start(lake, latest))
    if online is None:  # ask CloudTrail only for logs that came from S3 (a local copy is often offline)
        online = any(found.uri.startswith("s3://") for found in store.digests())
    finder = key_finder(public_keys=public_keys, lake=lake, online=online, required=not only_new)
    recorder = Recorder(lake, store.name) if record else None
    summary = validate(
        store, finder, scope=scope, workers=workers, skip_logs=skip, sink=recorder, keep_valid_logs=False
    )
    if recorder is not None:
        recorder.flush()
    return summary


def _pending_start(lake: Lake, latest: dict[str, tuple[str, str]]) -> dt.datetime | None:
    """Where an incremental run starts: an hour before the oldest digest not yet recorded valid.

    That hour brings in the valid digest each pending one links to (its hash is checked); older
    digests are not re-read. With none pending, only the newest digests are re-read.
    """
    table = lake.read("cloudtrail_digests", columns=["source_object", "digestEndTime"])
    if table is None or table.num_rows == 0:
        return None
    ends: list[dt.datetime] = []
    pending: list[dt.datetime] = []
    for source, end in zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True):
        if end is None:
            continue
        ends.append(end)
        if latest.get(source, ("", ""))[0] != "valid":
            pending.append(end)
    if not ends:
        return None
    return (min(pending) if pending else max(ends)) - dt.timedelta(hours=1, minutes=5)


def validate_after_ingest(lake: Lake) -> ValidationSummary:
    """What `trailhouse ingest --validate` runs after a commit: validate what is not yet validated.

    Uses the public keys cached in the lake (a `trailhouse validate --public-keys FILE` run caches
    them), then CloudTrail's ListPublicKeys when reachable; with no keys, digests are recorded
    `unverified` rather than failing the ingest.
    """
    return validate_lake(lake, only_new=True)
