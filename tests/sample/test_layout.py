"""Account ids, organisation ids and keys of a sample follow CloudTrail's and Config's layouts."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

from trailhouse.model.keys import classify_key
from trailhouse.sample.layout import config_key, file_suffix, log_key, make_accounts, make_org_id
from trailhouse.sample.writer import overlap_key

WHEN = datetime(2026, 11, 1, 9, 15, tzinfo=UTC)


def test_layout_accounts_are_distinct_twelve_digits_some_with_leading_zeros() -> None:
    accounts = make_accounts(random.Random(1), 30)
    assert len(set(accounts)) == 30
    assert all(re.fullmatch(r"\d{12}", account) for account in accounts)
    assert sum(account.startswith("00") for account in accounts) >= 5


def test_layout_org_id_and_suffix_shapes() -> None:
    rng = random.Random(2)
    assert re.fullmatch(r"o-[a-z0-9]{10}", make_org_id(rng))
    assert re.fullmatch(r"[A-Za-z0-9]{16}", file_suffix(rng))


def test_layout_log_key_is_classified_as_events_with_its_account_and_region() -> None:
    key = log_key("CloudTrail", "001234567890", "eu-west-1", WHEN, "AbCdEfGh12345678")
    assert key == (
        "AWSLogs/001234567890/CloudTrail/eu-west-1/2026/11/01/"
        "001234567890_CloudTrail_eu-west-1_20261101T0915Z_AbCdEfGh12345678.json.gz"
    )
    info = classify_key(key, 100)
    assert (info.kind, info.account, info.region, info.org, info.date, info.delivered) == (
        "events",
        "001234567890",
        "eu-west-1",
        "",
        "2026-11-01",
        "20261101T0915Z",
    )


def test_layout_org_insight_key_is_classified_as_insights() -> None:
    key = log_key("CloudTrail-Insight", "123456789012", "us-east-1", WHEN, "x" * 16, "o-abcdefghij")
    assert key.startswith("AWSLogs/o-abcdefghij/123456789012/CloudTrail-Insight/us-east-1/2026/11/01/")
    assert key.endswith("123456789012_CloudTrail-Insight_us-east-1_20261101T0915Z_xxxxxxxxxxxxxxxx.json.gz")
    info = classify_key(key, 100)
    assert (info.kind, info.account, info.org) == ("insights", "123456789012", "o-abcdefghij")


def test_layout_config_key_is_skipped_by_the_key_grammar() -> None:
    key = config_key("123456789012", "us-east-1", WHEN, "0f1e2d3c-0000-4000-8000-000000000000")
    assert key.startswith("AWSLogs/123456789012/Config/us-east-1/2026/11/1/ConfigSnapshot/")
    assert classify_key(key, 100).reason == "AWS Config file, not CloudTrail"


def test_layout_overlap_key_moves_an_org_file_to_the_account_trail() -> None:
    org_key = log_key("CloudTrail", "123456789012", "us-east-1", WHEN, "A" * 16, "o-abcdefghij")
    copy = overlap_key(org_key, "123456789012")
    assert re.fullmatch(
        r"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/01/"
        r"123456789012_CloudTrail_us-east-1_20261101T0915Z_[A-Za-z0-9]{16}\.json\.gz",
        copy,
    )
    assert copy == overlap_key(org_key, "123456789012")
