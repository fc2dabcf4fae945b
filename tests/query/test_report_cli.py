"""`trailhouse report`: the list, one report in each format, and its messages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.query.lakes import build_lake, record, user
from trailhouse.cli.main import cli


def _lake(tmp_path: Path) -> str:
    login = record(
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        userIdentity=user("mallory"),
        sourceIPAddress="185.220.101.23",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "No"},
    )
    build_lake(tmp_path / "lake", [record(), login])
    return str(tmp_path / "lake")


def test_report_list_shows_each_report_with_its_description() -> None:
    result = CliRunner().invoke(cli, ["report", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 11
    assert lines[2].split()[0] == "console-logins" and "source IP with country/city/ASN" in lines[2]


def test_report_console_logins_shows_the_login_country(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", "console-logins", "--lake", _lake(tmp_path), "--section", "logins"]
    )
    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[2]
    assert "user/mallory" in row and "185.220.101.23" in row and " DE " in row and "Berlin" in row


def test_report_jsonl_prints_one_object_per_row_with_its_section(tmp_path: Path) -> None:
    args = ["report", "general-operations", "--lake", _lake(tmp_path), "--format", "jsonl"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["section"] for r in rows} >= {"over_time", "by_service", "by_principal"}
    assert next(r for r in rows if r["section"] == "by_account")["events"] == 2


def test_report_json_and_csv(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    body = json.loads(
        CliRunner().invoke(cli, ["report", "identities", "--lake", lake, "--format", "json"]).output
    )
    assert body["report"] == "identities" and len(body["sections"]["principals"]) == 2
    csv = CliRunner().invoke(
        cli, ["report", "identities", "--lake", lake, "--format", "csv", "--section", "by_type"]
    )
    assert csv.output.splitlines()[0] == "principal_type,principals,events,errors"


def test_report_unknown_name_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["report", "nope"])
    assert result.exit_code == 2
    assert "Unknown report 'nope'. Reports: access-denied, account-activity" in result.output


def test_report_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", "identities", "--lake", _lake(tmp_path), "--since", "last week"]
    )
    assert result.exit_code == 2
    assert "Invalid value 'last week' for --since" in result.output


def test_report_missing_lake_says_how_to_create_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "identities", "--lake", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "No Delta table at" in result.output and "trailhouse ingest" in result.output
