"""The digest model: one `cloudtrail_digests` row per digest file, clear errors for malformed ones."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from trailhouse.errors import ObjectReadError
from trailhouse.model.digest import DIGEST_SCHEMA, digest_table


def test_digest_table_parses_one_row_with_typed_columns() -> None:
    digest = {
        "awsAccountId": "111122223333",
        "digestStartTime": "2026-07-29T23:00:00Z",
        "digestEndTime": "2026-07-30T00:00:00Z",
        "digestS3Bucket": "b",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/07/30/x.json.gz",
        "digestPublicKeyFingerprint": "f" * 32,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "previousDigestSignature": None,
        "logFiles": [{"s3Bucket": "b", "s3Object": "k", "hashValue": "h", "hashAlgorithm": "SHA-256"}],
    }
    table = digest_table(json.dumps(digest).encode(), "AWSLogs/x", "ab12")
    assert table.schema == DIGEST_SCHEMA and table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["digest_date"] == dt.date(2026, 7, 30)
    assert row["logFiles"][0]["s3Object"] == "k" and row["signature"] == "ab12"
    assert row["validation_status"] is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "is not JSON"),
        (b"[1]", "is not a JSON object"),
        (b'{"digestEndTime": "x"}', "lacks digestS3Bucket"),
        (
            b'{"digestEndTime":"soon","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f"}',
            "has a digestEndTime that is not a time",
        ),
    ],
)
def test_digest_table_rejects_malformed_digests(data: bytes, reason: str) -> None:
    with pytest.raises(ObjectReadError, match=reason):
        digest_table(data, "AWSLogs/x.json.gz", None)
