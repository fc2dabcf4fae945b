"""Every tampering case, detected and named, offline, on a generated bucket with signed digests."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integrity.conftest import Bucket, make_bucket, write_log
from trailhouse.integrity.outcomes import Finding, ValidationSummary
from trailhouse.integrity.public_keys import KeyRing, sign
from trailhouse.integrity.signer import SigningKey, sample_private_key
from trailhouse.integrity.stores import FolderStore
from trailhouse.integrity.validator import Scope, validate
from trailhouse.model.digest import string_to_sign


def run(bucket: Bucket, **options: object) -> ValidationSummary:
    return validate(FolderStore(bucket.root), bucket.ring(), **options)  # type: ignore[arg-type]


def not_valid(summary: ValidationSummary) -> list[Finding]:
    return [f for f in summary.findings if f.status != "valid" or f.problem]


def test_validator_passes_a_valid_chain(bucket: Bucket) -> None:
    summary = run(bucket)
    assert summary.ok
    assert not_valid(summary) == []
    assert summary.count("digest", "valid") == 5
    assert summary.count("log", "valid") == 10
    assert summary.signature_sources == {"sidecar .sig": 5}


def test_validator_names_a_log_file_changed_by_one_byte(bucket: Bucket) -> None:
    path = bucket.logs()[3]
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[20] ^= 0x01
    path.write_bytes(gzip.compress(bytes(data)))
    summary = run(bucket)
    assert not summary.ok
    [bad] = not_valid(summary)
    assert (bad.kind, bad.status, bad.problem) == ("log", "invalid", "hash value doesn't match")
    assert bad.location == str(path)


def test_validator_names_a_deleted_log_file(bucket: Bucket) -> None:
    path = bucket.logs()[0]
    path.unlink()
    summary = run(bucket)
    [bad] = not_valid(summary)
    assert (bad.kind, bad.status, bad.problem) == ("log", "missing", "not found")
    assert bad.source_object == path.relative_to(bucket.root).as_posix()
    assert not summary.ok


def test_validator_names_one_deleted_digest(bucket: Bucket) -> None:
    gone = bucket.digests[2]
    gone.unlink()
    summary = run(bucket)
    missing = [f for f in summary.findings if f.status == "missing"]
    assert [(f.kind, f.problem, f.count) for f in missing] == [("digest", "not found", 1)]
    assert missing[0].source_object == gone.relative_to(bucket.root).as_posix()
    # Its log files are now listed in no digest: reported, not valid.
    unlisted = [f for f in summary.findings if f.problem == "listed in no digest"]
    assert len(unlisted) == 2 and {f.status for f in unlisted} == {"unverified"}
    assert all("gap in the chain" in f.detail for f in unlisted)
    assert not summary.ok


def test_validator_counts_two_consecutive_deleted_digests_as_a_gap(bucket: Bucket) -> None:
    bucket.digests[1].unlink()
    bucket.digests[2].unlink()
    summary = run(bucket)
    [gap] = [f for f in summary.findings if f.status == "missing"]
    assert (gap.kind, gap.problem, gap.count) == ("digest", "gap in the chain", 2)
    assert "2 digest(s) missing between 2026-07-29T10:00:00Z and 2026-07-29T12:00:00Z" in gap.detail
    assert summary.count("digest", "missing") == 2
    assert not summary.ok


def test_validator_reports_a_moved_digest_as_valid_and_moved(bucket: Bucket) -> None:
    source = bucket.digests[1]
    key = source.relative_to(bucket.root).as_posix()
    target = bucket.root / "moved" / key
    target.parent.mkdir(parents=True)
    shutil.move(source, target)
    shutil.move(f"{source}.sig", f"{target}.sig")
    summary = run(bucket)
    [moved] = [f for f in summary.findings if f.problem == "moved"]
    assert (moved.kind, moved.status) == ("digest", "valid")
    assert f"CloudTrail delivered it to s3://trail-bucket/{key}" in moved.detail
    assert summary.ok and summary.count("log", "valid") == 10


def test_validator_handles_a_key_rotation_within_the_range(tmp_path: Path) -> None:
    second = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    handover = dt.datetime(2026, 7, 29, 12, tzinfo=dt.UTC)
    keys = [SigningKey(sample_private_key()), SigningKey(second, handover)]
    bucket = make_bucket(tmp_path / "b", signing_keys=keys)
    summary = run(bucket)
    assert summary.ok and not not_valid(summary)
    assert len(summary.fingerprints) == 2
    assert any(note.startswith("Key rotation") for note in summary.notes)
    # Without the new key, the digests it signed are invalid, not silently passed.
    old_only = KeyRing(key for key in bucket.ring().public_keys() if key.fingerprint == keys[0].fingerprint)
    summary = validate(FolderStore(bucket.root), old_only)
    failed = [f for f in summary.findings if f.kind == "digest" and f.status == "invalid"]
    assert failed and {f.problem for f in failed} == {"public key not found"}


def test_validator_follows_an_organisation_trail(tmp_path: Path) -> None:
    bucket = make_bucket(tmp_path / "b", org="o-abc123", accounts=("111122223333", "444455556666"))
    assert all("/o-abc123/" in p.as_posix() for p in bucket.digests)
    summary = run(bucket)
    assert summary.ok and not not_valid(summary)
    assert summary.count("digest", "valid") == 10 and summary.count("log", "valid") == 20


def test_validator_uses_the_next_digest_signature_and_marks_the_newest_unverifiable(bucket: Bucket) -> None:
    for digest in bucket.digests:
        Path(f"{digest}.sig").unlink()
    summary = run(bucket)
    by_location = {f.location: f for f in summary.findings if f.kind == "digest"}
    newest = by_location[str(bucket.digests[-1])]
    assert (newest.status, newest.problem) == ("unverified", "no signature")
    older = [by_location[str(p)] for p in bucket.digests[:-1]]
    assert {f.status for f in older} == {"valid"}
    assert all("signature from the next digest's previousDigestSignature" in f.detail for f in older)
    assert summary.count("log", "unverified") == 2  # the newest digest's files
    assert summary.ok  # unverifiable is reported, not failed (the CLI's --strict fails it)


def test_validator_rejects_a_rewritten_digest(bucket: Bucket) -> None:
    path = bucket.digests[1]
    text = gzip.decompress(path.read_bytes()).replace(b'"SHA-256"', b'"SHA-256" ', 1)
    path.write_bytes(gzip.compress(text))
    summary = run(bucket)
    bad = {f.location: f for f in summary.findings if f.status == "invalid"}
    assert bad[str(path)].problem.startswith("signature verification failed")
    assert "hash value doesn't match" in bad[str(path)].problem  # the next digest's link disagrees too


def test_validator_reports_log_files_listed_in_no_digest(bucket: Bucket) -> None:
    first = bucket.logs()[0].relative_to(bucket.root).as_posix()
    extra = write_log(bucket.root, first.replace("0000000000000000", "0000000000000099"))
    summary = run(bucket)
    [unlisted] = [f for f in summary.findings if f.problem == "listed in no digest"]
    assert (unlisted.location, unlisted.status) == (str(extra), "unverified")
    assert "added after delivery" in unlisted.detail


def test_validator_scope_limits_the_range(bucket: Bucket) -> None:
    bucket.digests[0].unlink()  # outside the range: not reported
    scope = Scope(start=dt.datetime(2026, 7, 29, 12, tzinfo=dt.UTC))
    summary = run(bucket, scope=scope)
    assert summary.ok
    assert summary.count("digest", "valid") == 3


def test_validator_sequential_and_process_pool_agree(bucket: Bucket) -> None:
    bucket.logs()[1].write_bytes(gzip.compress(b"{}"))
    threads = run(bucket)
    sequential = run(bucket, sequential=True)
    processes = run(bucket, pool="process", workers=2)
    assert threads.findings == sequential.findings == processes.findings


def test_validator_checks_a_backfill_digest_on_its_own(bucket: Bucket) -> None:
    source = bucket.digests[2]
    digest = json.loads(gzip.decompress(source.read_bytes()))
    key = digest["digestS3Object"].replace(".json.gz", "_backfill.json.gz")
    digest.update(digestS3Object=key, previousDigestS3Object=None, previousDigestSignature=None)
    raw = json.dumps(digest).encode()
    (bucket.root / key).write_bytes(gzip.compress(raw))
    (bucket.root / f"{key}.sig").write_text(sign(sample_private_key(), string_to_sign(digest, raw)))
    summary = run(bucket)
    [backfill] = [f for f in summary.findings if f.source_object == key]
    assert backfill.status == "valid" and "backfill digest" in backfill.detail
    assert "1 backfill digest(s) checked on their own (outside the hourly chain)" in summary.notes
    assert summary.ok and not [f for f in summary.findings if f.status != "valid"]


def test_validator_can_count_valid_logs_without_keeping_them(bucket: Bucket) -> None:
    bucket.logs()[0].unlink()
    seen: list[Finding] = []
    summary = run(bucket, sink=seen.append, keep_valid_logs=False)
    assert [f.status for f in summary.findings if f.kind == "log"] == ["missing"]
    assert summary.count("log", "valid") == 9 and summary.counts[("log", "valid")] == 9
    assert len(seen) == 15 and summary.count("digest", "valid") == 5
