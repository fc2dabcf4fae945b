from __future__ import annotations

import json

import pytest

from tests.conftest import corpus_or_skip
from trailhouse.model.keys import classify_key, identity


@pytest.mark.parametrize(
    ("key", "kind", "account", "region", "org"),
    [
        (
            "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/07/29/"
            "123456789012_CloudTrail_eu-west-1_20260729T0915Z_a1B2c3D4e5F6g7H8.json.gz",
            "events",
            "123456789012",
            "eu-west-1",
            "",
        ),
        (
            "custom/prefix/AWSLogs/o-a1b2c3d4e5/000000000042/CloudTrail/us-gov-west-1/2026/07/29/x.json",
            "events",
            "000000000042",
            "us-gov-west-1",
            "o-a1b2c3d4e5",
        ),
        (
            "AWSLogs/123456789012/CloudTrail-Insight/us-north-2r/2026/07/29/f.json.gz",
            "insights",
            "123456789012",
            "us-north-2r",
            "",
        ),
        (
            "AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/07/29/d.json.gz",
            "digest",
            "123456789012",
            "eu-west-1",
            "",
        ),
    ],
)
def test_keys_classify_cloudtrail_layouts(key: str, kind: str, account: str, region: str, org: str) -> None:
    info = classify_key(key)
    assert (info.kind, info.account, info.region, info.org) == (kind, account, region, org)
    assert info.source_object.startswith("AWSLogs/")


@pytest.mark.parametrize(
    ("key", "size", "reason"),
    [
        ("AWSLogs/123456789012/CloudTrail/eu-west-1/2026/07/29/", 0, "folder marker"),
        ("AWSLogs/123456789012/CloudTrail/eu-west-1/2026/07/29/a.json.gz", 0, "empty object"),
        (
            "AWSLogs/123456789012/Config/eu-west-1/2026/7/29/ConfigSnapshot/x.json.gz",
            10,
            "AWS Config file, not CloudTrail",
        ),
        ("access.log", 10, "not a CloudTrail file (expected .json, .json.gz or .gz)"),
    ],
)
def test_keys_skip_with_a_reason(key: str, size: int, reason: str) -> None:
    info = classify_key(key, size)
    assert (info.kind, info.reason) == ("skip", reason)


def test_keys_identity_survives_a_moved_copy() -> None:
    key = "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/07/29/f.json.gz"
    assert identity("backup/2026/" + key) == identity(key) == key


def test_keys_agree_with_the_corpus_vectors() -> None:
    vectors = json.loads((corpus_or_skip() / "key-vectors" / "cloudtrail-rs_s3_key_corpus.json").read_text())
    for case in vectors:
        info = classify_key(case["key"])
        # the corpus' "accepted by default" means: an event log object (digests/insights are routed elsewhere)
        expected_events = case["accepted_by_default"] or (
            case["key"].endswith(".json") and "/CloudTrail/" in case["key"]
        )
        assert (info.kind == "events") == expected_events, case["key"]
