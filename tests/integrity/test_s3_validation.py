"""Validating a bucket on S3 (the local moto endpoint): signatures come from the objects' metadata."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.aws.conftest import aws_env, moto_endpoint, s3_bucket  # noqa: F401  (fixtures)
from tests.integrity.conftest import make_bucket
from trailhouse.integrity.stores import S3Store
from trailhouse.integrity.validator import validate
from trailhouse.sources import digest_objects

pytestmark = pytest.mark.aws


def upload(root: Path, bucket: str) -> None:
    """Copy a local bucket to S3 as CloudTrail would hold it: signatures in metadata, no sidecars."""
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if not path.is_file() or key.endswith(".sig") or key == "public-keys.json":
            continue
        metadata = {}
        signature = Path(f"{path}.sig")
        if signature.exists():
            metadata = {"signature": signature.read_text().strip(), "signature-algorithm": "SHA256withRSA"}
        digest_objects.put_object(bucket, key, path.read_bytes(), metadata)


def test_s3_validation_reads_signatures_from_metadata(tmp_path: Path, s3_bucket: str) -> None:  # noqa: F811
    local = make_bucket(tmp_path / "b", hours=3)
    upload(local.root, s3_bucket)
    summary = validate(S3Store(f"s3://{s3_bucket}"), local.ring())
    assert summary.ok
    assert summary.signature_sources == {"S3 metadata": 3}
    assert summary.count("digest", "valid") == 3 and summary.count("log", "valid") == 6


def test_s3_validation_names_a_changed_and_a_deleted_log(tmp_path: Path, s3_bucket: str) -> None:  # noqa: F811
    local = make_bucket(tmp_path / "b", hours=3)
    upload(local.root, s3_bucket)
    changed, deleted = (path.relative_to(local.root).as_posix() for path in local.logs()[:2])
    digest_objects.put_object(s3_bucket, changed, gzip.compress(b'{"Records":[]}'))
    digest_objects._client("s3").delete_object(Bucket=s3_bucket, Key=deleted)
    summary = validate(S3Store(f"s3://{s3_bucket}"), local.ring())
    problems = {(f.source_object, f.status, f.problem) for f in summary.findings if f.status != "valid"}
    assert problems == {
        (changed, "invalid", "hash value doesn't match"),
        (deleted, "missing", "not found"),
    }
