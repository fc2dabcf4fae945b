"""Audit records: Okera's fields, the file layout, and no secrets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from trailhouse.auth.audit import (
    AUDIT_SCHEMA,
    AuditEvent,
    AuditWriter,
    read_audit,
    record_cli_query,
    steward_rows,
)
from trailhouse.auth.tokens import new_token
from trailhouse.lake import Lake

OKERA_FIELDS = [
    "request_time", "request_id", "start_unix_time", "end_unix_time", "auth_failure", "status", "user",
    "connected_user", "client_application", "client_network_address", "statement_type", "statement",
    "num_results_returned", "ae_database", "ae_table", "ae_view", "ae_function", "ae_role", "ymd",
]  # fmt: skip


def test_audit_writer_file_layout_and_fields(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    secret = new_token()
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    AuditWriter(lake, "api").write(
        AuditEvent(now, now, "alice", "ok", "QUERY", f"SELECT '{secret}'", tables=("cloudtrail",))
    )
    files = list((tmp_path / "_audit").rglob("*.jsonl"))
    assert len(files) == 1
    assert files[0].parent.name == "ymd=2026-03-04"
    assert re.fullmatch(r"api-[A-Za-z0-9._\-]+-000001-[0-9a-f]{32}\.jsonl", files[0].name)
    record = json.loads(files[0].read_text())
    assert list(record) == OKERA_FIELDS == AUDIT_SCHEMA.names
    assert record["request_time"] == "2026-03-04 05:06:07.000000000"
    assert record["ymd"] == "2026-03-04" and record["ae_table"] == "cloudtrail"
    assert secret not in files[0].read_text()


def test_audit_cli_query_is_recorded(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    record_cli_query(lake, "SELECT 1", 1, "ok")
    [record] = read_audit(lake)
    assert record["client_application"] == "trailhouse-cli"
    assert record["statement"] == "SELECT 1" and record["num_results_returned"] == 1


def test_audit_steward_rows_keep_only_administered_objects() -> None:
    rows: list[dict[str, object]] = [
        {"ae_table": "ledger", "ae_view": ""},
        {"ae_table": "cloudtrail", "ae_view": ""},
        {"ae_table": "ledger", "ae_view": "console_logins"},
        {"ae_table": "", "ae_view": ""},
    ]
    assert steward_rows(rows, frozenset({"ledger"})) == [rows[0]]
    assert steward_rows(rows, None) == rows
