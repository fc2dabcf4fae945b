"""Each report beside its positive and negative cases, on small lakes written straight to Delta."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.query.lakes import ACCOUNT, OTHER, build_lake, record, user
from trailhouse.errors import UsageError
from trailhouse.query.engine import Engine
from trailhouse.query.reports import ReportParams, list_reports, parse_time, run_report

NAMES = {
    "access-denied",
    "account-activity",
    "console-logins",
    "data-access",
    "error-overview",
    "general-operations",
    "identities",
    "insights",
    "role-usage",
    "s3-writes",
    "security-group-changes",
}


def run(
    tmp_path: Path, records: list[dict[str, Any]], name: str, **params: Any
) -> dict[str, list[dict[str, Any]]]:
    insights = [r for r in records if r.get("eventCategory") == "Insight"]
    events = [r for r in records if r.get("eventCategory") != "Insight"]
    lake = build_lake(tmp_path / "lake", events or [record()], insights)
    result = run_report(Engine(lake), name, ReportParams(**params))
    return {section: table.to_pylist() for section, table in result.sections.items()}


def login(
    name: str = "alice", ip: str = "81.2.69.160", result: str = "Success", mfa: str = "Yes", **fields: Any
) -> dict[str, Any]:
    return record(
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        userIdentity=user(name, kind=fields.pop("kind", "IAMUser")),
        sourceIPAddress=ip,
        responseElements={"ConsoleLogin": result},
        additionalEventData={"LoginTo": "https://console.aws.amazon.com", "MFAUsed": mfa},
        readOnly=False,
        **fields,
    )


# --- the catalogue -------------------------------------------------------------------------------


def test_reports_list_every_required_report_with_a_description() -> None:
    specs = {spec.name: spec for spec in list_reports()}
    assert set(specs) >= NAMES
    for spec in specs.values():
        assert spec.description and spec.sections
        assert spec.params[:5] == ("since", "until", "account", "region", "limit")


def test_reports_unknown_name_lists_the_reports(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        run(tmp_path, [record()], "no-such-report")
    assert str(caught.value).startswith(
        "Unknown report 'no-such-report'\nReports: access-denied, account-activity"
    )


def test_reports_unknown_parameter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Unknown parameter 'colour'"):
        run(tmp_path, [record()], "general-operations", extra={"colour": "red"})


def test_reports_choice_parameter_is_checked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Invalid value 'year' for --interval"):
        run(tmp_path, [record()], "general-operations", extra={"interval": "year"})


def test_reports_bind_values_so_quotes_cannot_inject_sql(tmp_path: Path) -> None:
    sections = run(tmp_path, [record()], "general-operations", account="x' OR '1'='1")
    assert sections["by_account"] == []


def test_reports_filter_by_period_account_and_region(tmp_path: Path) -> None:
    records = [
        record(eventTime="2026-11-01T10:00:00Z"),
        record(eventTime="2026-11-02T10:00:00Z"),
        record(eventTime="2026-11-02T11:00:00Z", recipientAccountId=OTHER),
        record(eventTime="2026-11-03T10:00:00Z", awsRegion="eu-west-1"),
    ]
    since, until = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    by_account = run(tmp_path, records, "general-operations", since=since, until=until)["by_account"]
    assert {(r["recipientAccountId"], r["events"]) for r in by_account} == {(ACCOUNT, 1), (OTHER, 1)}
    only = run(tmp_path / "b", records, "general-operations", account=OTHER)["by_account"]
    assert [(r["recipientAccountId"], r["events"]) for r in only] == [(OTHER, 1)]
    region = run(tmp_path / "c", records, "general-operations", region="eu-west-1")["by_region"]
    assert [(r["awsRegion"], r["events"]) for r in region] == [("eu-west-1", 1)]


def test_reports_limit_caps_rows(tmp_path: Path) -> None:
    records = [record(eventName=f"Action{i}") for i in range(5)]
    assert len(run(tmp_path, records, "general-operations", limit=2)["top_events"]) == 2


def test_run_report_times_each_section_when_asked(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    engine = Engine(build_lake(tmp_path / "lake", [record()]))
    run_report(engine, "data-access", ReportParams(), timings=timings)
    assert list(timings) == ["_s3", "s3_by_principal", "s3_by_bucket", "s3_by_action", "lambda_invocations"]
    assert all(seconds > 0 for seconds in timings.values())


def test_parse_time_accepts_dates_iso_times_and_ages() -> None:
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert parse_time("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_time("2026-11-01T10:00:00Z") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert parse_time("7d", now=now) == datetime(2026, 11, 14, 12, tzinfo=UTC)
    assert parse_time("12h", now=now) == datetime(2026, 11, 21, 0, tzinfo=UTC)
    with pytest.raises(UsageError, match="Invalid value 'yesterday' for --since"):
        parse_time("yesterday")


# --- one pair of cases per report -----------------------------------------------------------------


def test_general_operations_counts_by_service_and_resource(tmp_path: Path) -> None:
    records = [
        record(
            eventSource="s3.amazonaws.com", resources=[{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"}]
        ),
        record(
            eventSource="s3.amazonaws.com", resources=[{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"}]
        ),
        record(errorCode="Throttling"),
    ]
    sections = run(tmp_path, records, "general-operations")
    assert [(r["service"], r["events"], r["errors"]) for r in sections["by_service"]] == [
        ("s3", 2, 0),
        ("ec2", 1, 1),
    ]
    assert [(r["resource"], r["events"]) for r in sections["top_resources"]] == [("arn:aws:s3:::b", 2)]


def test_general_operations_top_resources_counts_an_arn_once_whatever_its_type(tmp_path: Path) -> None:
    records = [
        record(resources=[{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket", "accountId": ACCOUNT}]),
        record(resources=[{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Object"}]),
    ]
    top = run(tmp_path, records, "general-operations")["top_resources"]
    assert [(r["resource"], r["events"]) for r in top] == [("arn:aws:s3:::b", 2)]


def _touch(*arns: str) -> list[dict[str, Any]]:
    return [record(eventSource="s3.amazonaws.com", resources=[{"ARN": arn}]) for arn in arns]


def test_general_operations_top_resources_objects_below_the_listed_rows(tmp_path: Path) -> None:
    objects = [f"arn:aws:s3:::b/key-{n}" for n in range(20)]
    records = _touch(*["arn:aws:s3:::a"] * 5, *["arn:aws:s3:::b"] * 4, "arn:aws:s3:::c", *objects)
    top = run(tmp_path, records, "general-operations", limit=2)["top_resources"]
    assert [(r["resource"], r["events"]) for r in top] == [("arn:aws:s3:::a", 5), ("arn:aws:s3:::b", 4)]


def test_general_operations_top_resources_lists_an_object_that_outranks_the_rest(tmp_path: Path) -> None:
    records = _touch(*["arn:aws:s3:::b"] * 2, *["arn:aws:s3:::b/hot.csv"] * 3)
    top = run(tmp_path, records, "general-operations", limit=1)["top_resources"]
    assert [(r["resource"], r["events"]) for r in top] == [("arn:aws:s3:::b/hot.csv", 3)]


def test_general_operations_top_resources_object_tied_with_the_last_row_is_ordered_by_name(
    tmp_path: Path,
) -> None:
    records = _touch(*["arn:aws:s3:::b"] * 2, *["arn:aws:s3:::a/k"] * 2)
    top = run(tmp_path, records, "general-operations", limit=1)["top_resources"]
    assert [(r["resource"], r["events"]) for r in top] == [("arn:aws:s3:::a/k", 2)]


@pytest.mark.parametrize("compacted", [(), ("2026-11-01",), ("2026-11-01", "2026-11-02")])
def test_general_operations_top_resources_add_up_over_compacted_and_other_files(
    tmp_path: Path, compacted: tuple[str, ...]
) -> None:
    # Compacted days are read from the stored derived columns, the others from `resources`.
    def on(day: str, *arns: str) -> list[dict[str, Any]]:
        return [dict(r, eventTime=f"{day}T10:00:00Z") for r in _touch(*arns)]

    keys = [f"arn:aws:s3:::b/k{n}" for n in range(10)]
    a, b, hot = "arn:aws:s3:::a", "arn:aws:s3:::b", "arn:aws:s3:::b/hot"
    records = on("2026-11-01", a, a, a, b, hot, *keys) + on("2026-11-02", a, a, b, b, b, hot)
    hotter = records + on("2026-11-02", hot, hot, hot, hot)
    lakes = build_lake(tmp_path / "warm", records), build_lake(tmp_path / "hot", hotter)
    for lake in lakes:
        for day in compacted:
            lake.rewrite_sorted("cloudtrail", partition=day, sort_by=("eventName",), rows_per_file=1000)
    warm, hotter_top = (
        run_report(Engine(lake), "general-operations", ReportParams(limit=limit))["top_resources"].to_pylist()
        for lake, limit in zip(lakes, (2, 1), strict=True)
    )
    assert [(r["resource"], r["events"]) for r in warm] == [(a, 5), (b, 4)]  # objects at most 2: below
    assert [(r["resource"], r["events"]) for r in hotter_top] == [(hot, 6)]


def test_general_operations_without_resources_has_no_top_resources(tmp_path: Path) -> None:
    assert run(tmp_path, [record()], "general-operations")["top_resources"] == []


def test_error_overview_rates_and_recurring_errors(tmp_path: Path) -> None:
    records = [
        record(eventTime="2026-11-01T10:00:00Z", errorCode="AccessDenied"),
        record(eventTime="2026-11-02T10:00:00Z", errorCode="AccessDenied"),
        record(eventTime="2026-11-02T11:00:00Z"),
    ]
    sections = run(tmp_path, records, "error-overview")
    assert [(r["events"], r["errors"], r["error_rate"]) for r in sections["over_time"]] == [
        (1, 1, 1.0),
        (2, 1, 0.5),
    ]
    assert [(r["errorCode"], r["days"], r["errors"]) for r in sections["recurring"]] == [
        ("AccessDenied", 2, 2)
    ]


def test_error_overview_one_day_error_is_not_recurring(tmp_path: Path) -> None:
    sections = run(tmp_path, [record(errorCode="AccessDenied")], "error-overview")
    assert sections["recurring"] == []
    assert [r["errorCode"] for r in sections["top_error_codes"]] == ["AccessDenied"]


def test_console_logins_flags_root_no_mfa_and_new_country(tmp_path: Path) -> None:
    records = [
        login("alice", eventTime="2026-11-01T09:00:00Z"),
        login("alice", ip="185.220.101.23", mfa="No", eventTime="2026-11-02T09:00:00Z"),
        login("root", ip="185.220.101.23", mfa="No", kind="Root", eventTime="2026-11-02T09:10:00Z"),
        login("bob", ip="81.2.69.1", result="Failure", eventTime="2026-11-02T09:20:00Z"),
    ]
    sections = run(tmp_path, records, "console-logins")
    new = sections["new_locations"]
    assert [(r["user"], r["location"], r["city"]) for r in new] == [
        (f"arn:aws:iam::{ACCOUNT}:user/alice", "DE", "Berlin")
    ]
    assert [(r["country"], r["asn"]) for r in sections["root_logins"]] == [("DE", 60729)]
    assert len(sections["without_mfa"]) == 2
    by_user = {r["user"]: (r["successes"], r["failures"]) for r in sections["by_user"]}
    assert by_user[f"arn:aws:iam::{ACCOUNT}:user/bob"] == (0, 1)
    first = sections["logins"][0]
    assert (first["identity_type"], first["country"], first["flags"]) == (
        "Root",
        "DE",
        ["root", "no-mfa", "first-login"],
    )


def test_console_logins_same_country_is_not_new(tmp_path: Path) -> None:
    records = [
        login(eventTime="2026-11-01T09:00:00Z"),
        login(ip="81.2.69.99", eventTime="2026-11-02T09:00:00Z"),
    ]
    sections = run(tmp_path, records, "console-logins")
    assert sections["new_locations"] == [] and sections["root_logins"] == [] and sections["without_mfa"] == []


def test_console_logins_new_location_looks_before_since(tmp_path: Path) -> None:
    records = [
        login(eventTime="2026-11-01T09:00:00Z"),
        login(ip="81.2.69.99", eventTime="2026-11-02T09:00:00Z"),
    ]
    since = datetime(2026, 11, 2, tzinfo=UTC)
    assert run(tmp_path, records, "console-logins", since=since)["new_locations"] == []


def test_console_logins_history_before_since_decides_new_locations(tmp_path: Path) -> None:
    records = [
        login(ip="185.220.101.23", eventTime="2026-11-01T09:00:00Z"),
        login(eventTime="2026-11-02T09:00:00Z"),
        login(ip="185.220.101.23", eventTime="2026-11-03T09:00:00Z"),
    ]
    sections = run(tmp_path, records, "console-logins", since=datetime(2026, 11, 2, tzinfo=UTC))
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert [(r["user"], r["location"]) for r in sections["new_locations"]] == [(alice, "GB")]
    assert [(r["country"], r["flags"]) for r in sections["logins"]] == [("GB", ["new-location"]), ("DE", [])]
    assert [(r["location"], r["first_seen"].day, r["logins"]) for r in sections["first_seen_locations"]] == [
        ("DE", 1, 2),
        ("GB", 2, 1),
    ]
    assert [(r["successes"], r["first_login"].day) for r in sections["by_user"]] == [(2, 2)]


@pytest.mark.parametrize("since", [None, datetime(2026, 11, 2, tzinfo=UTC)])
def test_console_logins_same_time_logins_are_ordered_by_event_id(
    tmp_path: Path, since: datetime | None
) -> None:
    records = [
        login(ip="185.220.101.23", eventTime="2026-11-02T09:00:00Z", eventID="b"),
        login(eventTime="2026-11-02T09:00:00Z", eventID="a"),
    ]
    sections = run(tmp_path, records, "console-logins", since=since)
    assert [r["location"] for r in sections["new_locations"]] == ["DE"]
    assert sorted((r["country"], r["flags"]) for r in sections["logins"]) == [
        ("DE", ["new-location"]),
        ("GB", ["first-login"]),
    ]


def test_console_logins_private_and_aws_addresses_are_labelled(tmp_path: Path) -> None:
    records = [login(ip="10.0.0.5"), login("bob", ip="AWS Internal")]
    by_source = {r["sourceIPAddress"]: r for r in run(tmp_path, records, "console-logins")["by_source"]}
    assert (by_source["10.0.0.5"]["ip_label"], by_source["10.0.0.5"]["country"]) == ("private", None)
    assert by_source["AWS Internal"]["ip_label"] == "aws-service"


def _sg(name: str, cidr: str | None, **fields: Any) -> dict[str, Any]:
    ranges = {"items": [{"cidrIp": cidr}]} if cidr and ":" not in cidr else {}
    v6 = {"items": [{"cidrIpv6": cidr}]} if cidr and ":" in cidr else {}
    permission = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ranges, "ipv6Ranges": v6}
    params = {"groupId": "sg-1", "ipPermissions": {"items": [permission]}}
    return record(eventName=name, requestParameters=params, readOnly=False, **fields)


def test_security_group_changes_flags_world_open_rules(tmp_path: Path) -> None:
    records = [_sg("AuthorizeSecurityGroupIngress", "0.0.0.0/0"), _sg("AuthorizeSecurityGroupEgress", "::/0")]
    changes = run(tmp_path, records, "security-group-changes")["changes"]
    assert [(r["open_to_world"], r["group_id"], r["from_ports"]) for r in changes] == [
        (True, "sg-1", ["22"]),
        (True, "sg-1", ["22"]),
    ]


def test_security_group_changes_private_rule_and_other_events_not_flagged(tmp_path: Path) -> None:
    records = [_sg("AuthorizeSecurityGroupIngress", "10.0.0.0/8"), _sg("DescribeSecurityGroups", "0.0.0.0/0")]
    sections = run(tmp_path, records, "security-group-changes")
    assert [(r["eventName"], r["open_to_world"], r["cidrs"]) for r in sections["changes"]] == [
        ("AuthorizeSecurityGroupIngress", False, ["10.0.0.0/8"])
    ]


def test_account_activity_root_iam_changes_and_recurring_errors(tmp_path: Path) -> None:
    records = [
        record(
            userIdentity=user("root", kind="Root"),
            eventName="CreateAccessKey",
            eventSource="iam.amazonaws.com",
        ),
        record(
            eventSource="iam.amazonaws.com", eventName="AttachRolePolicy", requestParameters={"roleName": "r"}
        ),
        record(eventSource="iam.amazonaws.com", eventName="GetUser"),
        record(eventTime="2026-11-01T01:00:00Z", errorCode="Throttling"),
        record(eventTime="2026-11-03T01:00:00Z", errorCode="Throttling"),
    ]
    sections = run(tmp_path, records, "account-activity")
    assert [(r["recipientAccountId"], r["events"]) for r in sections["root_by_account"]] == [(ACCOUNT, 1)]
    assert {(r["eventName"], r["category"]) for r in sections["iam_changes"]} == {
        ("CreateAccessKey", "access_key"),
        ("AttachRolePolicy", "policy"),
    }
    assert [(r["errorCode"], r["days"]) for r in sections["recurring_errors"]] == [("Throttling", 2)]


def test_account_activity_reads_are_not_changes(tmp_path: Path) -> None:
    records = [record(eventSource="iam.amazonaws.com", eventName="ListUsers")]
    sections = run(tmp_path, records, "account-activity")
    assert sections["iam_changes"] == [] and sections["root_activity"] == []


def _assume(kind: str, role: str, **fields: Any) -> dict[str, Any]:
    return record(
        eventSource="sts.amazonaws.com",
        eventName=kind,
        requestParameters={"roleArn": role, "roleSessionName": "s"},
        responseElements={
            "assumedRoleUser": {"arn": role.replace(":iam:", ":sts:").replace(":role/", ":assumed-role/")}
        },
        **fields,
    )


def test_role_usage_by_role_and_assumer(tmp_path: Path) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/deploy"
    saml = {"type": "SAMLUser", "principalId": "okta:bob", "userName": "bob", "identityProvider": "okta"}
    records = [
        _assume("AssumeRole", role),
        _assume("AssumeRole", role),
        _assume("AssumeRoleWithSAML", role, userIdentity=saml),
    ]
    sections = run(tmp_path, records, "role-usage")
    assert [(r["role"], r["assumptions"], r["assumers"]) for r in sections["by_role"]] == [(role, 3, 2)]
    assert {(r["assumer"], r["eventName"], r["assumptions"]) for r in sections["by_assumer"]} == {
        (f"arn:aws:iam::{ACCOUNT}:user/alice", "AssumeRole", 2),
        ("bob", "AssumeRoleWithSAML", 1),
    }


def test_role_usage_ignores_other_sts_calls(tmp_path: Path) -> None:
    records = [record(eventSource="sts.amazonaws.com", eventName="GetCallerIdentity")]
    assert run(tmp_path, records, "role-usage")["by_role"] == []


def test_identities_lists_principals_with_first_and_last_seen(tmp_path: Path) -> None:
    records = [
        record(eventTime="2026-11-01T01:00:00Z"),
        record(eventTime="2026-11-02T01:00:00Z", recipientAccountId=OTHER, eventSource="s3.amazonaws.com"),
        record(userIdentity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, errorCode="X"),
    ]
    principals = {r["principal"]: r for r in run(tmp_path, records, "identities")["principals"]}
    alice = principals[f"arn:aws:iam::{ACCOUNT}:user/alice"]
    assert (alice["events"], alice["accounts"], alice["services"]) == (2, [ACCOUNT, OTHER], 2)
    assert alice["first_seen"].day == 1 and alice["last_seen"].day == 2
    assert (principals["ec2.amazonaws.com"]["principal_type"], principals["ec2.amazonaws.com"]["errors"]) == (
        "AWSService",
        1,
    )


def test_a_principal_seen_under_several_identity_types_lists_them_all(tmp_path: Path) -> None:
    # One user name, signed in through SAML and failing a console login as "Unknown": the type
    # column names both, the same on every run (it once showed whichever row came first).
    saml = {"type": "SAMLUser", "principalId": "okta:jamal", "userName": "jamal"}
    unknown = {"type": "Unknown", "principalId": "", "userName": "jamal"}
    records = [record(userIdentity=saml), record(userIdentity=unknown), record(userIdentity=saml)]
    for report, section in (("identities", "principals"), ("general-operations", "by_principal")):
        rows = {r["principal"]: r for r in run(tmp_path / report, records, report)[section]}
        assert (rows["jamal"]["principal_type"], rows["jamal"]["events"]) == ("SAMLUser, Unknown", 3)


def test_identities_type_filter_excludes_others(tmp_path: Path) -> None:
    assert run(tmp_path, [record()], "identities", extra={"type": "Root"})["principals"] == []


def _s3(name: str, key: str, bucket: str = "lake", **fields: Any) -> dict[str, Any]:
    return record(
        eventSource="s3.amazonaws.com",
        eventName=name,
        eventCategory="Data",
        managementEvent=False,
        readOnly=name.startswith(("Get", "Head")),
        requestParameters={"bucketName": bucket, "key": key},
        **fields,
    )


def test_s3_writes_counts_objects_and_partitions(tmp_path: Path) -> None:
    records = [
        _s3("PutObject", "sales/year=2026/month=11/a.parquet"),
        _s3("PutObject", "sales/year=2026/month=11/b.parquet"),
        _s3("CopyObject", "sales/year=2026/month=10/a.parquet"),
        _s3("DeleteObject", "tmp/x"),
    ]
    sections = run(tmp_path, records, "s3-writes")
    assert [(r["table_path"], r["partition"], r["writes"], r["copies"]) for r in sections["partitions"]] == [
        ("sales", "year=2026/month=10", 0, 1),
        ("sales", "year=2026/month=11", 2, 0),
    ]
    assert [(r["bucket"], r["objects"], r["deletes"]) for r in sections["by_bucket"]] == [("lake", 4, 1)]


def test_s3_writes_counts_an_object_written_twice_once_at_every_grain(tmp_path: Path) -> None:
    records = [
        _s3("PutObject", "sales/year=2026/a.parquet"),
        _s3("PutObject", "sales/year=2026/a.parquet"),
        _s3("CopyObject", "sales/year=2026/tmp/b.parquet"),
        _s3("PutObject", "top.csv"),
    ]
    sections = run(tmp_path, records, "s3-writes")
    assert [(r["bucket"], r["events"], r["objects"]) for r in sections["by_bucket"]] == [("lake", 4, 3)]
    assert [(r["prefix"], r["events"], r["objects"]) for r in sections["by_prefix"]] == [
        ("sales/year=2026", 2, 1),
        ("", 1, 1),
        ("sales/year=2026/tmp", 1, 1),
    ]
    assert [(r["partition"], r["events"], r["objects"]) for r in sections["partitions"]] == [
        ("year=2026", 3, 2)
    ]


def test_s3_writes_ignores_reads_and_failed_writes(tmp_path: Path) -> None:
    records = [_s3("GetObject", "a/b"), _s3("PutObject", "a/c", errorCode="AccessDenied")]
    sections = run(tmp_path, records, "s3-writes")
    assert sections["by_bucket"] == [] and sections["partitions"] == []


def test_s3_reports_read_a_bucket_or_key_that_is_not_a_string_as_its_json_text(tmp_path: Path) -> None:
    odd = {"bucketName": 7, "key": {"part": 1}}
    records = [dict(_s3("PutObject", "a/b"), requestParameters=odd), _s3("PutObject", "a/c", bucket="7")]
    writes = run(tmp_path / "w", records, "s3-writes")["by_prefix"]
    assert [(r["bucket"], r["prefix"], r["objects"]) for r in writes] == [("7", "", 1), ("7", "a", 1)]
    access = run(tmp_path / "a", records, "data-access")["s3_by_principal"]
    assert [(r["bucket"], r["writes"], r["objects"]) for r in access] == [("7", 2, 2)]


def test_access_denied_groups_denials(tmp_path: Path) -> None:
    records = [record(errorCode="AccessDenied"), record(errorCode="Client.UnauthorizedOperation"), record()]
    sections = run(tmp_path, records, "access-denied")
    assert sum(r["denied"] for r in sections["by_action"]) == 2


def test_access_denied_other_errors_are_not_denials(tmp_path: Path) -> None:
    assert run(tmp_path, [record(errorCode="Throttling")], "access-denied")["recent"] == []


def test_data_access_s3_reads_writes_and_lambda(tmp_path: Path) -> None:
    records = [
        _s3("GetObject", "a/1"),
        _s3("GetObject", "a/2"),
        _s3("PutObject", "a/3"),
        record(
            eventSource="lambda.amazonaws.com",
            eventName="Invoke",
            eventCategory="Data",
            requestParameters={"functionName": "f"},
        ),
    ]
    sections = run(tmp_path, records, "data-access")
    assert [(r["bucket"], r["reads"], r["writes"], r["objects"]) for r in sections["s3_by_principal"]] == [
        ("lake", 2, 1, 3)
    ]
    assert [(r["function"], r["invocations"]) for r in sections["lambda_invocations"]] == [("f", 1)]


def test_data_access_counts_objects_of_a_listed_pair_only(tmp_path: Path) -> None:
    records = [
        _s3("GetObject", "a/1"),
        _s3("GetObject", "a/2"),
        _s3("GetObject", "a/3", userIdentity=user("bob")),
        _s3("GetObject", "a/4", bucket="other"),
    ]
    listed = run(tmp_path, records, "data-access", limit=1)["s3_by_principal"]
    assert [(r["principal"], r["bucket"], r["reads"], r["objects"]) for r in listed] == [
        (f"arn:aws:iam::{ACCOUNT}:user/alice", "lake", 2, 2)
    ]


def test_data_access_management_events_are_not_data_access(tmp_path: Path) -> None:
    records = [record(eventSource="s3.amazonaws.com", eventName="ListBuckets")]
    sections = run(tmp_path, records, "data-access")
    assert sections["s3_by_principal"] == [] and sections["lambda_invocations"] == []


def _insight(state: str, **fields: Any) -> dict[str, Any]:
    statistics = {"baseline": {"average": 0.5}, "insight": {"average": 12.0}, "insightDuration": 3}
    attributions = [
        {"attribute": "userIdentityArn", "insight": [{"value": "arn:x", "average": 11.0}], "baseline": []}
    ]
    details = {
        "state": state,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "insightType": "ApiCallRateInsight",
        "insightContext": {"statistics": statistics, "attributions": attributions},
    }
    return record(eventType="AwsCloudTrailInsight", eventCategory="Insight", insightDetails=details, **fields)


def test_insights_baseline_versus_insight_and_attributions(tmp_path: Path) -> None:
    sections = run(tmp_path, [_insight("Start"), _insight("End")], "insights")
    assert [(r["state"], r["baseline_average"], r["insight_average"]) for r in sections["insights"]][0][
        1:
    ] == (0.5, 12.0)
    assert {(r["attribute"], r["value"], r["insight_average"]) for r in sections["attributions"]} == {
        ("userIdentityArn", "arn:x", 11.0)
    }
    assert [(r["eventName"], r["insights"]) for r in sections["by_event"]] == [("RunInstances", 1)]


def test_insights_outside_the_period_are_left_out(tmp_path: Path) -> None:
    since = datetime(2026, 11, 5, tzinfo=UTC)
    assert run(tmp_path, [_insight("Start")], "insights", since=since)["insights"] == []


def test_reports_see_only_the_accounts_a_scoped_engine_grants(tmp_path: Path) -> None:
    from trailhouse.query.engine import Scope

    lake = build_lake(
        tmp_path / "lake", [record(), record(recipientAccountId=OTHER), login(recipientAccountId=OTHER)]
    )
    engine = Engine(lake, Scope(accounts=frozenset({ACCOUNT}), sandboxed=True))
    by_account = run_report(engine, "general-operations", ReportParams())["by_account"].to_pylist()
    assert [(r["recipientAccountId"], r["events"]) for r in by_account] == [(ACCOUNT, 1)]
    assert run_report(engine, "console-logins", ReportParams())["logins"].num_rows == 0
