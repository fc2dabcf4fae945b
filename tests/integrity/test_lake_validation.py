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


def record_bucket(lake: Lake, root: Path) -> None:
    """What ingest records for a bucket (the contract): ledger rows with each object's uri, digest rows."""
    rows, digests = [], []
    for path in sorted(root.rglob("*.json.gz")):
        key = path.relative_to(root).as_posix()
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
