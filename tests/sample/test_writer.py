"""A written sample: deterministic, in CloudTrail's layout, with the mix, the incident and the skew."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trailhouse.errors import TrailhouseError, UsageError
from trailhouse.sample import SampleSpec, incident, write_sample
from trailhouse.sample.identities import IDENTITY_TYPES
from trailhouse.sample.plan import plan_sample
from trailhouse.sample.writer import overlap_key

from .conftest import Written, read_logs, write

TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_same_seed_gives_the_same_bytes_in_one_or_two_processes(tmp_path: Path) -> None:
    options = {"events": 1500, "days": 1, "digests": False, "org": True, "overlap": True}
    write_sample(SampleSpec(root=tmp_path / "a", seed=3, **options))
    write_sample(SampleSpec(root=tmp_path / "b", seed=3, workers=2, **options))
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(first) > 50
    assert sorted(first) == sorted(second)
    assert [key for key in first if first[key] != second[key]] == []


def test_sample_different_seed_gives_different_files(tmp_path: Path) -> None:
    write_sample(SampleSpec(root=tmp_path / "a", seed=3, events=500, days=1, digests=False))
    write_sample(SampleSpec(root=tmp_path / "b", seed=4, events=500, days=1, digests=False))
    assert set(_files(tmp_path / "a")).isdisjoint(_files(tmp_path / "b"))


def test_sample_writes_exactly_the_requested_number_of_events(account_sample: Written) -> None:
    assert account_sample.result.events == 6000
    assert len(account_sample.records()) == 6000


def test_sample_keys_follow_the_cloudtrail_grammar(account_sample: Written) -> None:
    result = account_sample.result
    kinds: Counter[str] = Counter()
    for key, info in account_sample.classified().items():
        if key == "public-keys.json" or key.endswith(".sig"):
            continue
        kinds[info.kind] += 1
        assert key.startswith("AWSLogs/")
        if info.kind == "skip":
            assert info.reason == "AWS Config file, not CloudTrail"
            continue
        assert info.account in result.accounts
        assert info.region in result.regions
        assert info.org == ""
        folder = {"events": "CloudTrail", "insights": "CloudTrail-Insight", "digest": "CloudTrail-Digest"}
        assert f"/{info.account}/{folder[info.kind]}/{info.region}/{info.date.replace('-', '/')}/" in key
        if info.kind != "digest":
            assert re.search(r"_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$", key)
            assert info.delivered[:8] == info.date.replace("-", "")
    assert kinds["events"] == result.files
    assert kinds["insights"] == result.insight_files > 0
    assert kinds["digest"] == result.digests > 0
    assert kinds["skip"] == 1
    assert (account_sample.spec.root / "public-keys.json").is_file()


def test_sample_files_are_gzipped_with_a_zero_mtime(account_sample: Written) -> None:
    for key in list(account_sample.logs)[:50]:
        data = (account_sample.spec.root / key).read_bytes()
        assert data[:2] == b"\x1f\x8b"
        assert data[4:8] == b"\0\0\0\0"
        assert gzip.decompress(data).startswith(b'{"Records":[{"eventVersion":"1.')


def test_sample_records_are_sorted_and_inside_their_delivery_window(account_sample: Written) -> None:
    for key, records in account_sample.logs.items():
        stamp = re.search(r"_(\d{8})T(\d{2})(\d{2})Z_", key)
        assert stamp is not None
        day, hour, minute = stamp.groups()
        delivered = f"{day[:4]}-{day[4:6]}-{day[6:]}T{hour}:{minute}:00Z"
        times = [record["eventTime"] for record in records]
        assert times == sorted(times)
        assert all(TIME.fullmatch(t) and t < delivered for t in times)
        assert times[0] >= account_sample.spec.start.isoformat()


def test_sample_records_carry_valid_cloudtrail_fields(account_sample: Written) -> None:
    for key, records in account_sample.logs.items():
        account, region = re.search(r"AWSLogs/(\d{12})/CloudTrail/([^/]+)/", key).groups()  # type: ignore[union-attr]
        for record in records:
            assert record["eventVersion"] in {"1.08", "1.09", "1.10", "1.11"}
            assert UUID.fullmatch(record["eventID"])
            assert record["recipientAccountId"] == account
            assert record["awsRegion"] == region
            assert record["eventCategory"] in {"Management", "Data", "NetworkActivity"}
            assert record["sourceIPAddress"]
            assert "eventType" in record and "userIdentity" in record


def test_sample_has_every_user_identity_type(account_sample: Written) -> None:
    types = Counter(record["userIdentity"].get("type") for record in account_sample.records())
    assert set(IDENTITY_TYPES) <= set(types)
    sessions = [
        r["userIdentity"] for r in account_sample.records() if r["userIdentity"].get("type") == "AssumedRole"
    ]
    context = sessions[0]["sessionContext"]
    assert context["sessionIssuer"]["type"] == "Role"
    assert context["attributes"]["mfaAuthenticated"] in {"true", "false"}
    services = [r for r in account_sample.records() if r["userIdentity"].get("type") == "AWSService"]
    assert all(r["userIdentity"]["invokedBy"].endswith(".amazonaws.com") for r in services)


def test_sample_has_the_event_mix_security_reports_need(account_sample: Written) -> None:
    records = account_sample.records()
    names = Counter(r["eventName"] for r in records)
    for name in (
        "GetObject",
        "PutObject",
        "DeleteObject",
        "CopyObject",
        "Invoke",
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "ConsoleLogin",
        "CreateUser",
        "CreateAccessKey",
        "AttachRolePolicy",
        "PutUserPolicy",
        "DeleteRole",
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
    ):
        assert names[name] > 0, name
    codes = Counter(r.get("errorCode") for r in records)
    for code in ("AccessDenied", "ThrottlingException", "Client.RequestLimitExceeded", "VpceAccessDenied"):
        assert codes[code] > 0, code
    assert any(r["eventType"] == "AwsVpceEvent" and r["eventCategory"] == "NetworkActivity" for r in records)
    partition_keys = [
        r["requestParameters"]["key"]
        for r in records
        if r["eventName"] == "GetObject" and "dt=" in r["requestParameters"].get("key", "")
    ]
    assert partition_keys and all(
        re.search(r"/dt=\d{4}-\d{2}-\d{2}/part-\d{4}\.parquet$", k) for k in partition_keys
    )
    logins = [r for r in records if r["eventName"] == "ConsoleLogin"]
    assert {r["additionalEventData"]["MFAUsed"] for r in logins} == {"Yes", "No"}
    assert {r["responseElements"]["ConsoleLogin"] for r in logins} == {"Success", "Failure"}
    ingress = [r for r in records if r["eventName"] == "AuthorizeSecurityGroupIngress"]
    cidrs = {
        i["cidrIp"]
        for r in ingress
        for p in r["requestParameters"]["ipPermissions"]["items"]
        for i in p["ipRanges"]["items"]
    }
    assert "0.0.0.0/0" in cidrs
    assumed = [r for r in records if r["eventName"].startswith("AssumeRole")]
    assert all(r["responseElements"]["assumedRoleUser"]["arn"].startswith("arn:aws:sts::") for r in assumed)


def test_sample_insights_records_have_their_details(account_sample: Written) -> None:
    root = account_sample.spec.root
    paths = [p for p in root.rglob("*.json.gz") if "/CloudTrail-Insight/" in p.as_posix()]
    records = [r for p in paths for r in json.loads(gzip.decompress(p.read_bytes()))["Records"]]
    assert {r["insightDetails"]["state"] for r in records} == {"Start", "End"}
    assert {r["insightDetails"]["insightType"] for r in records} == {
        "ApiCallRateInsight",
        "ApiErrorRateInsight",
    }
    for record in records:
        assert (record["eventType"], record["eventCategory"]) == ("AwsCloudTrailInsight", "Insight")
        statistics = record["insightDetails"]["insightContext"]["statistics"]
        assert "average" in statistics["baseline"] and "average" in statistics["insight"]
        assert record["insightDetails"]["insightContext"]["attributions"]


def test_sample_file_sizes_are_skewed(account_sample: Written) -> None:
    counts = sorted(len(records) for records in account_sample.logs.values())
    median, largest = counts[len(counts) // 2], counts[-1]
    top_tenth = sum(counts[len(counts) * 9 // 10 :])
    assert largest >= 20 * median
    assert top_tenth >= 0.4 * sum(counts)


def test_sample_contains_the_incident(account_sample: Written) -> None:
    where = incident.locate(
        account_sample.result.accounts[0], account_sample.spec.start, account_sample.spec.days
    )
    from_ip = [r for r in account_sample.records() if r["sourceIPAddress"] == incident.IP]
    assert [r["eventName"] for r in from_ip] == list(incident.EVENT_NAMES)
    assert all(
        r["recipientAccountId"] == where.account and r["awsRegion"] == incident.REGION for r in from_ip
    )
    login, _, ingress, root_login, _, stop = from_ip
    assert login["userIdentity"]["userName"] == incident.USER
    assert login["additionalEventData"]["MFAUsed"] == "No"
    assert login["eventTime"] == where.login_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ingress["eventTime"] == where.ingress_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    permission = ingress["requestParameters"]["ipPermissions"]["items"][0]
    assert ingress["requestParameters"]["groupId"] == incident.SECURITY_GROUP_ID
    assert (permission["fromPort"], permission["ipRanges"]["items"][0]["cidrIp"]) == (
        incident.PORT,
        incident.CIDR,
    )
    assert root_login["userIdentity"]["type"] == "Root"
    assert stop["userIdentity"]["type"] == "Root" and stop["eventTime"] == where.stop_logging_time.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    mallory = [r for r in account_sample.records() if r["userIdentity"].get("userName") == incident.USER]
    assert len(mallory) == 3


def test_sample_org_layout_and_overlap_copies(org_sample: Written) -> None:
    result = org_sample.result
    assert re.fullmatch(r"o-[a-z0-9]{10}", result.org)
    first = result.accounts[0]
    org_keys = [k for k in org_sample.logs if k.startswith(f"AWSLogs/{result.org}/")]
    copies = [k for k in org_sample.logs if not k.startswith(f"AWSLogs/{result.org}/")]
    assert len(org_keys) + len(copies) == result.files
    assert len(copies) == result.overlap_files > 0
    assert all(k.startswith(f"AWSLogs/{first}/CloudTrail/") for k in copies)
    root = org_sample.spec.root
    for key in org_keys:
        if f"/{first}/" in key:
            assert (root / overlap_key(key, first)).read_bytes() == (root / key).read_bytes()
    assert result.overlap_events == sum(len(org_sample.logs[k]) for k in copies)
    assert sum(len(org_sample.logs[k]) for k in org_keys) == result.events == 4000
    assert result.digests == 0 and not (root / "public-keys.json").exists()


def test_sample_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(TrailhouseError) as raised:
        write_sample(SampleSpec(root=tmp_path, events=10, digests=False))
    assert str(raised.value) == (
        f"Folder '{tmp_path}' is not empty\n"
        "Pass --force to replace the sample in it (removes AWSLogs/ and public-keys.json), "
        "or choose a new folder."
    )


def test_sample_force_replaces_only_a_previous_sample(tmp_path: Path) -> None:
    write_sample(SampleSpec(root=tmp_path, events=300, seed=1))
    (tmp_path / "notes.txt").write_text("mine")
    write_sample(SampleSpec(root=tmp_path, events=300, seed=2, digests=False), force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "public-keys.json").exists()
    assert sum(len(records) for records in read_logs(tmp_path).values()) == 300


def test_sample_overlap_needs_an_org_trail(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--overlap needs an organisation trail"):
        write(tmp_path, overlap=True, org=False)


def test_sample_with_no_events_still_has_the_incident(tmp_path: Path) -> None:
    written = write(tmp_path, events=0, days=1, digests=False)
    names = [record["eventName"] for record in written.records()]
    assert names == list(incident.EVENT_NAMES)
    assert written.result.events == incident.EVENT_COUNT


def test_sample_bursts_of_failures_raise_error_rate_insights(account_sample: Written) -> None:
    root = account_sample.spec.root
    insights = [
        r
        for p in root.rglob("*.json.gz")
        if "/CloudTrail-Insight/" in p.as_posix()
        for r in json.loads(gzip.decompress(p.read_bytes()))["Records"]
    ]
    bursts = [f for f in plan_sample(account_sample.spec).files if f.has_burst]
    assert len(bursts) >= 3
    for burst in bursts:
        records = account_sample.logs[burst.key]
        failed = Counter(
            (r["eventSource"], r["eventName"], r["errorCode"]) for r in records if "errorCode" in r
        )
        call, repeats = failed.most_common(1)[0]
        assert repeats >= len(records) // 4
        began = datetime.fromtimestamp(burst.start, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        matching = [
            r
            for r in insights
            if r["eventTime"] == began
            and r["recipientAccountId"] == records[0]["recipientAccountId"]
            and r["awsRegion"] == burst.region
            and r["insightDetails"]["state"] == "Start"
            and (
                r["insightDetails"]["eventSource"],
                r["insightDetails"]["eventName"],
                r["insightDetails"]["errorCode"],
            )
            == call
        ]
        assert len(matching) == 1, burst.key
