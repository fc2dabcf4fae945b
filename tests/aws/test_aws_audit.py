"""The access audit log of an s3:// lake: objects under _audit/, read back by the audit views."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from tests.api.asgi_client import Client
from tests.aws.conftest import trailhouse
from tests.conftest import event, log_key, write_log
from trailhouse.api.app import create_app
from trailhouse.auth.audit import AuditEvent, AuditWriter, read_audit
from trailhouse.auth.store import AuthStore
from trailhouse.auth.tokens import new_token
from trailhouse.lake import Lake


def _audit_keys(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="lake/_audit/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_audit_writer_s3_objects_per_flush_and_day(s3_bucket: str) -> None:
    lake = Lake(f"s3://{s3_bucket}/lake")
    writer = AuditWriter(lake, "api", flush_every=3600)  # only `close` flushes here
    secret = new_token()
    days = [datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), datetime(2026, 3, 5, 0, 0, 1, tzinfo=UTC)]
    for when in (days[0], days[0], days[1]):
        writer.write(AuditEvent(when, when, "alice", "ok", "QUERY", f"SELECT '{secret}'"))
    assert _audit_keys(s3_bucket) == []  # gathered, not yet written
    writer.close()
    keys = _audit_keys(s3_bucket)
    assert [key.split("/")[2] for key in keys] == ["ymd=2026-03-04", "ymd=2026-03-05"]
    assert all(re.fullmatch(r"api-[A-Za-z0-9._\-]+-\d{6}-[0-9a-f]{32}\.jsonl", k.split("/")[3]) for k in keys)
    records = read_audit(lake)
    assert [r["ymd"] for r in records] == ["2026-03-04", "2026-03-04", "2026-03-05"]
    assert secret not in json.dumps(records)


def test_audit_cli_query_on_s3_lake_is_written_at_exit(s3_bucket: str, tmp_path: Path) -> None:
    write_log(tmp_path / "logs", log_key(), [event()])
    root = f"s3://{s3_bucket}/lake"
    trailhouse("ingest", str(tmp_path / "logs"), "--lake", root, "-q")
    trailhouse("query", "SELECT count(*) AS n FROM cloudtrail", "--lake", root, "--format", "json")
    [record] = read_audit(Lake(root))
    assert record["client_application"] == "trailhouse-cli"
    assert record["statement"] == "SELECT count(*) AS n FROM cloudtrail"
    assert record["num_results_returned"] == 1


def test_audit_api_requests_on_s3_lake_allowed_and_denied(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILHOUSE_SESSION_SECRET", "x" * 48)
    lake = Lake(f"s3://{s3_bucket}/lake")
    token = AuthStore(lake).add_user("admin", is_admin=True).secret
    app = create_app(lake)
    client = Client(app)
    try:
        assert client.get("/api/status").status_code == 401
        assert client.get("/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        client.close()
        app.state.trailhouse.writer.close()
    records = read_audit(lake)
    assert [(r["user"], r["auth_failure"]) for r in records] == [("", True), ("admin", False)]
    assert token not in json.dumps(records)
