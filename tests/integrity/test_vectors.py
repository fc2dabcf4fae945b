"""The AWS CLI's validate-logs test vectors (../shared/corpus/aws-cli-validate-logs)."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from trailhouse.integrity.hashing import hash_chunks
from trailhouse.integrity.outcomes import Finding
from trailhouse.integrity.public_keys import KeyRing, keys_from_response, verify_signature
from trailhouse.model.digest import digest_key, is_backfill, parse_digest_key, string_to_sign

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "aws-cli-validate-logs"
VECTORS_FILE = CORPUS / "digest_validation_vectors.json"
pytestmark = pytest.mark.skipif(not VECTORS_FILE.exists(), reason=f"corpus not at {CORPUS}")


@pytest.fixture(scope="module")
def vectors() -> dict:  # type: ignore[type-arg]
    return json.loads(VECTORS_FILE.read_text())


def test_digest_string_to_sign_matches_the_cli(vectors: dict) -> None:  # type: ignore[type-arg]
    case = vectors["string_to_sign"]["vector_no_previous_signature"]
    assert string_to_sign(case["digest"], case["uncompressed_digest"].encode()).decode() == case["expected"]


def test_digest_key_date_and_backfill_match_the_cli(vectors: dict) -> None:  # type: ignore[type-arg]
    for case in vectors["digest_key_date_extraction"]:
        name = parse_digest_key(case["key"])
        assert name is not None
        assert (name.time, name.is_backfill, name.trail) == (case["date"], case["is_backfill"], "foo")
    for key, expected in vectors["is_backfill_edge_cases"].items():
        assert is_backfill(key) is expected


def test_digest_key_templates_match_the_cli(vectors: dict) -> None:  # type: ignore[type-arg]
    end = dt.datetime(2014, 8, 9, 23, 59, tzinfo=dt.UTC)
    for case in vectors["list_objects_expectations"]:
        org = "o-12345" if case["trail"] == "organization" else ""
        account = case["prefix"].split("/")[-3]
        key = "prefix/" + digest_key(account=account, region="us-east-1", trail="foo", end=end, org=org)
        assert key == case["marker"]
        name = parse_digest_key(key)
        assert name is not None and (name.org, name.prefix, name.account) == (org, "prefix", account)


def test_log_file_hash_vectors_plain_and_gzip(vectors: dict) -> None:  # type: ignore[type-arg]
    for case in vectors["log_file_hash_vectors"]:
        content = case["uncompressed_content"].encode()
        assert hash_chunks([content]).sha256 == case["sha256"]
        packed = gzip.compress(content)
        assert hash_chunks([packed[:5], packed[5:]]).sha256 == case["sha256"]


def test_public_key_vector_loads_and_rejects_a_wrong_signature(vectors: dict) -> None:  # type: ignore[type-arg]
    response = {"PublicKeyList": [{"Value": vectors["valid_test_public_key_b64_der"], "Fingerprint": "abc"}]}
    [key] = keys_from_response(response)
    assert KeyRing([key]).find("abc") == key
    assert key.der == base64.b64decode(vectors["valid_test_public_key_b64_der"])
    assert verify_signature(key.der, b"a\nb/c\n...", "00" * 256) is False
    assert verify_signature(key.der, b"x", "not hex") is False


def test_finding_messages_match_the_cli(vectors: dict) -> None:  # type: ignore[type-arg]
    bad = Finding("digest", "invalid", "s3://b/k", "k", problem="signature verification failed")
    assert bad.message == vectors["error_messages"]["bad_signature"]
