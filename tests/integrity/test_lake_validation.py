"""Validating what the lake recorded, and keeping each object's outcome in the `validations` table."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from tests.integrity.conftest import Bucket
from trailhouse.errors import IntegrityError
from trailhouse.integrity.records import (
    VALIDATIONS,
    latest_validations,
    validate_after_ingest,
    validate_lake,
)
from trailhouse.lake import Lake
from trailhouse.model.digest import digest_table
from trailhouse.model.keys import classify_key
from trailhouse.model.schema import LEDGER_SCHEMA


def record_bucket(lake: Lake, root: Path, before: str = "", after: str = "") -> None:
    """What ingest records for a bucket (the contract): ledger rows with each object's uri, digest rows.

    `before`/`after`: only objects whose delivery stamp (e.g. 20260729T1200) sorts in that range.
    """
    rows, digests = [], []
    for path in sorted(root.rglob("*.json.gz")):
        key = path.relative_to(root).as_posix()
        stamp = key.rsplit("_", 2)[-2] if "CloudTrail-Digest" not in key else key.rsplit("_", 1)[-1]
        if (before and stamp[:13] >= before) or (after and stamp[:13] < after):
            continue
        kind = classify_key(key).kind
        rows.append({"source_object": key, "uri": str(path), "kind": kind, "status": "ingested"})
        if kind == "digest":
            digests.append(digest_table(gzip.decompress(path.read_bytes()), key, None))
    lake.append("ledger", pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA))
    lake.append("cloudtrail_digests", pa.concat_tables(digests))


@pytest.fixture
def lake(bucket: Bucket, tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    record_bucket(lake, bucket.root)
    return lake


def test_lake_validation_records_every_object_valid(bucket: Bucket, lake: Lake) -> None:
    summary = validate_lake(lake, public_keys=bucket.keys_file)
    assert summary.ok and summary.count("digest", "valid") == 5 and summary.count("log", "valid") == 10
    latest = latest_validations(lake)
    assert len(latest) == 15 and {status for status, _detail in latest.values()} == {"valid"}
    log = bucket.logs()[0].relative_to(bucket.root).as_posix()
    assert latest[log][0] == "valid"
    # Keys given once are cached: later runs work offline without --public-keys.
    assert validate_lake(lake, online=False).ok


def test_lake_validation_latest_row_wins_after_tampering(bucket: Bucket, lake: Lake) -> None:
    validate_lake(lake, public_keys=bucket.keys_file)
    path = bucket.logs()[2]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()).replace(b"Describe", b"Terminate", 1)))
    summary = validate_lake(lake, online=False)
    assert not summary.ok
    source = path.relative_to(bucket.root).as_posix()
    status, detail = latest_validations(lake)[source]
    assert status == "invalid" and detail.startswith("hash value doesn't match")
    table = lake.read(VALIDATIONS)
    assert table is not None and table.num_rows == 16  # 15 first, then only the one that changed


def test_validate_after_ingest_marks_digests_unverified_without_keys(lake: Lake) -> None:
    summary = validate_after_ingest(lake)
    latest = latest_validations(lake)
    digests = [status for source, (status, _d) in latest.items() if "CloudTrail-Digest" in source]
    assert digests and set(digests) == {"unverified"}
    assert summary.count("log", "unverified") == 10


def test_validate_after_ingest_skips_files_already_valid(bucket: Bucket, lake: Lake) -> None:
    validate_lake(lake, public_keys=bucket.keys_file)
    bucket.logs()[0].unlink()  # already recorded valid: not hashed again
    summary = validate_after_ingest(lake)
    assert summary.ok and summary.count("log") == 0


def test_lake_validation_needs_keys(lake: Lake) -> None:
    with pytest.raises(IntegrityError, match="No public keys to check the digests' signatures with"):
        validate_lake(lake, online=False)


def test_validate_after_ingest_prints_a_short_summary(bucket: Bucket, lake: Lake) -> None:
    from trailhouse.integrity.validate import validate_after_ingest as entry_point

    validate_lake(lake, public_keys=bucket.keys_file)
    bucket.logs()[0].write_bytes(gzip.compress(b"{}"))
    # Incremental: valid log files are not hashed again, and only the newest digests are re-read.
    assert str(entry_point(lake)) == "Validation: 2/2 digest files valid"
    assert str(validate_lake(lake, online=False)).splitlines()[:2] == [
        "Validation: 5/5 digest files valid",
        "Validation: 9/10 log files valid, 1 INVALID",
    ]


def test_validate_after_ingest_checks_new_digests_against_the_last_valid_one(
    bucket: Bucket, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "incremental")
    record_bucket(lake, bucket.root, before="20260729T1201")  # digests ending 10:00, 11:00, 12:00
    first = validate_lake(lake, public_keys=bucket.keys_file)
    assert first.ok and first.count("digest", "valid") == 3 and first.count("log", "valid") == 6
    # The 12:00 digest (recorded valid) is then rewritten; later digests arrive and link to it.
    digest = bucket.digests[2]
    digest.write_bytes(gzip.compress(gzip.decompress(digest.read_bytes()) + b" "))
    record_bucket(lake, bucket.root, after="20260729T1201")
    summary = validate_after_ingest(lake)
    assert summary.count("digest") == 3  # the two new digests and the one they link to, no older
    status, detail = latest_validations(lake)[digest.relative_to(bucket.root).as_posix()]
    assert status == "invalid" and "hash value doesn't match" in detail
