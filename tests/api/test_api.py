"""The JSON API in-process: authentication, grants, the sandbox, one error shape, and the audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.asgi_client import Client
from tests.api.conftest import Tokens
from tests.api.trail_fixtures import ACCOUNT_A, ACCOUNT_B, HIDDEN_EVENT_ID
from trailhouse.api.app import create_app
from trailhouse.auth.audit import read_audit
from trailhouse.lake import Lake


@pytest.fixture
def client(lake: Lake, tokens: Tokens) -> Iterator[Client]:
    c = Client(create_app(lake))
    yield c
    c.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(response: object, status: int) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status  # type: ignore[attr-defined]
    assert set(body) == {"ok", "error", "status"} and body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/status"), ("POST", "/api/query"), ("GET", "/api/events/x"), ("GET", "/metrics"),
     ("GET", "/api/reports/general-operations"), ("GET", "/api/openapi.json"), ("GET", "/api/nope")],
)  # fmt: skip
def test_api_anonymous_is_401(client: Client, method: str, path: str) -> None:
    body = assert_error_shape(client.request(method, path), 401)
    assert str(body["error"]).startswith("Sign-in required")


def test_api_anonymous_page_gets_the_sign_in_form_with_401(client: Client) -> None:
    response = client.get("/dashboards/general-operations")
    assert response.status_code == 401 and 'name="token"' in response.text


def test_api_bad_token_is_401_then_rate_limited(client: Client) -> None:
    for _ in range(10):
        assert_error_shape(client.get("/api/me", headers=auth("th_" + "x" * 43)), 401)
    body = assert_error_shape(client.get("/api/me", headers=auth("th_" + "x" * 43)), 429)
    assert str(body["error"]).startswith("Too many failed sign-ins from ")


def test_api_query_returns_rows(client: Client, tokens: Tokens) -> None:
    response = client.post(
        "/api/query", json={"sql": "SELECT count(*) AS n FROM cloudtrail"}, headers=auth(tokens.admin)
    )
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    assert body["columns"][0]["name"] == "n" and body["rows"] == [[41]] and body["truncated"] is False


def test_api_user_never_sees_other_accounts(client: Client, tokens: Tokens) -> None:
    sql = {"sql": "SELECT DISTINCT recipientAccountId FROM cloudtrail"}
    seen = client.post("/api/query", json=sql, headers=auth(tokens.alice)).json()["rows"]
    assert seen == [[ACCOUNT_A]]
    report = client.get("/api/reports/general-operations", headers=auth(tokens.alice)).json()
    accounts = {row[0] for row in report["sections"]["by_account"]["rows"]}
    assert accounts == {ACCOUNT_A}
    assert_error_shape(client.get(f"/api/events/{HIDDEN_EVENT_ID}", headers=auth(tokens.alice)), 404)
    admin_view = client.get(f"/api/events/{HIDDEN_EVENT_ID}", headers=auth(tokens.admin)).json()
    assert admin_view["event"]["recipientAccountId"] == ACCOUNT_B
    listed = client.get("/api/events?eventName=DeleteTrail", headers=auth(tokens.alice)).json()
    assert listed["rows"] == []


def test_api_user_without_grant_is_refused(client: Client, tokens: Tokens) -> None:
    body = assert_error_shape(
        client.post("/api/query", json={"sql": "SELECT * FROM cloudtrail"}, headers=auth(tokens.nobody)), 403
    )
    assert body["error"] == (
        "Statement refused: no grant on 'cloudtrail'\n"
        "Ask an administrator for a grant ('trailhouse grant USER --tables ... --accounts ...')."
    )
    assert_error_shape(client.get("/api/reports/general-operations", headers=auth(tokens.nobody)), 403)


ESCAPES = [
    ("SELECT * FROM read_parquet('/etc/passwd')", 400, "the function 'read_parquet' is not allowed"),
    ("SELECT * FROM read_csv('/etc/passwd')", 400, "the function 'read_csv' is not allowed"),
    ("SELECT * FROM '/etc/passwd'", 400, "looks like a file or URL"),
    ("COPY (SELECT 1) TO '/tmp/trailhouse-escape.csv'", 400, "'COPY' is not allowed"),
    ("ATTACH '/tmp/trailhouse-escape.db'", 400, "'ATTACH' is not allowed"),
    ("INSTALL httpfs", 400, "'INSTALL' is not allowed"),
    ("LOAD httpfs", 400, "'LOAD' is not allowed"),
    ("SET threads = 64", 400, "'SET' is not allowed"),
    ("PRAGMA database_list", 400, "'PRAGMA' is not allowed"),
    (
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        400,
        "RECURSIVE",
    ),
    ("SELECT 1; SELECT 2", 400, "2 statements were sent, one is allowed"),
    ("SELECT * FROM __raw_cloudtrail", 403, "no grant on '__raw_cloudtrail'"),
    ("SELECT * FROM glob('/**')", 400, "the function 'glob' is not allowed"),
]


@pytest.mark.parametrize(("sql", "status", "message"), ESCAPES)
def test_api_sandbox_escape_fails_with_message_and_audit_row(
    client: Client, tokens: Tokens, lake: Lake, sql: str, status: int, message: str
) -> None:
    body = assert_error_shape(
        client.post("/api/query", json={"sql": sql}, headers=auth(tokens.admin)), status
    )
    assert message in str(body["error"])
    rows = [r for r in read_audit(lake) if r["statement"] == sql]
    assert len(rows) == 1
    assert rows[0]["user"] == "admin" and rows[0]["status"] != "ok" and rows[0]["statement_type"] == "QUERY"
    assert rows[0]["auth_failure"] is (status == 403)


def test_api_lake_files_cannot_be_read_directly(client: Client, tokens: Tokens, lake: Lake) -> None:
    for sql in (
        f"SELECT * FROM '{lake.root}/cloudtrail/**/*.parquet'",
        f"SELECT * FROM parquet_scan('{lake.root}/cloudtrail/**/*.parquet')",
        f"SELECT * FROM read_json_auto('{lake.root}/_audit/*/*.jsonl')",
    ):
        assert_error_shape(client.post("/api/query", json={"sql": sql}, headers=auth(tokens.admin)), 400)


def test_api_errors_share_one_shape(client: Client, tokens: Tokens) -> None:
    h = auth(tokens.admin)
    assert_error_shape(client.get("/api/nope", headers=h), 404)
    assert_error_shape(client.get("/api/reports/nope", headers=h), 404)
    assert_error_shape(client.post("/api/query", content=b"not json", headers=h), 400)
    assert_error_shape(client.post("/api/query", json={"query": 1}, headers=h), 400)
    assert_error_shape(client.get("/api/reports/general-operations?account=12", headers=h), 400)
    assert_error_shape(client.post("/api/query", json={"sql": "SELECT nope FROM cloudtrail"}, headers=h), 400)


def test_api_audit_records_allowed_and_denied_requests_without_secrets(
    client: Client, tokens: Tokens, lake: Lake
) -> None:
    client.post(
        "/api/query", json={"sql": "SELECT eventID FROM cloudtrail LIMIT 3"}, headers=auth(tokens.alice)
    )
    client.get("/api/status")
    client.post("/api/query", json={"sql": f"SELECT '{tokens.admin}'"}, headers=auth(tokens.admin))
    rows = read_audit(lake)
    allowed = [r for r in rows if r["statement"] == "SELECT eventID FROM cloudtrail LIMIT 3"]
    assert allowed and allowed[0]["user"] == "alice" and allowed[0]["status"] == "ok"
    assert allowed[0]["num_results_returned"] == 3 and allowed[0]["ae_table"] == "cloudtrail"
    denied = [r for r in rows if r["statement"] == "GET /api/status"]
    assert denied and denied[0]["auth_failure"] is True and denied[0]["user"] == ""
    text = "".join(p.read_text() for p in Path(lake.root, "_audit").rglob("*.jsonl"))
    for secret in (tokens.admin, tokens.alice, tokens.nobody):
        assert secret not in text
    assert "th_<redacted>" in text


def test_api_audit_views(client: Client, tokens: Tokens) -> None:
    client.get("/api/me", headers=auth(tokens.alice))
    admin = client.post(
        "/api/query", json={"sql": "SELECT user, statement FROM audit_logs"}, headers=auth(tokens.admin)
    ).json()
    assert ["alice", "GET /api/me"] in admin["rows"]
    for view in ("daily_audit_logs", "weekly_audit_logs", "monthly_audit_logs", "reporting_audit_logs"):
        body = client.post(
            "/api/query", json={"sql": f"SELECT count(*) FROM {view}"}, headers=auth(tokens.admin)
        )
        assert body.status_code == 200, body.text
    assert_error_shape(
        client.post("/api/query", json={"sql": "SELECT * FROM audit_logs"}, headers=auth(tokens.alice)), 403
    )
    steward = client.post(
        "/api/query", json={"sql": "SELECT count(*) FROM steward_audit_logs"}, headers=auth(tokens.alice)
    ).json()
    assert steward["rows"] == [[0]]  # alice administers no object


def test_api_session_sign_in_needs_csrf_for_writes(client: Client, tokens: Tokens) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    bad = client.post("/login", data={"token": "th_" + "y" * 43, "csrf": csrf.group(1), "next": "/"})
    assert bad.status_code == 401 and "Sign-in failed" in bad.text
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    signed = client.post(
        "/login", data={"token": tokens.alice, "csrf": csrf.group(1), "next": "/sql"}, follow_redirects=False
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/sql"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert client.get("/api/me").json()["user"] == "alice"
    assert_error_shape(client.post("/api/query", json={"sql": "SELECT 1"}), 403)
    page = client.get("/sql")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    ok = client.post("/api/query", json={"sql": "SELECT 1 AS one"}, headers={"X-CSRF-Token": token.group(1)})
    assert ok.status_code == 200 and ok.json()["rows"] == [[1]]
    csv = client.post("/sql.csv", data={"sql": "SELECT 1 AS one", "csrf": token.group(1)})
    assert csv.status_code == 200 and csv.text.splitlines() == ["one", "1"]


def test_api_openapi_and_metrics(client: Client, tokens: Tokens) -> None:
    doc = client.get("/api/openapi.json", headers=auth(tokens.admin)).json()
    assert {"/api/query", "/api/reports/{name}", "/api/events/{id}", "/api/status"} <= set(doc["paths"])
    client.get("/api/status", headers=auth(tokens.admin))
    metrics = client.get("/metrics", headers=auth(tokens.admin)).text
    assert 'trailhouse_http_requests_total{method="GET",route="/api/status",status="200"}' in metrics
    assert "trailhouse_http_request_duration_seconds_bucket" in metrics
    assert "trailhouse_ingest_lag_seconds" in metrics


def test_api_status(client: Client, tokens: Tokens) -> None:
    body = client.get("/api/status", headers=auth(tokens.alice)).json()
    assert body["ok"] is True and "tables" in body["status"]
    json.dumps(body)


@pytest.mark.parametrize(
    "slug",
    ["general-operations", "error-overview", "console-logins", "security-group-changes", "account-activity"],
)
def test_api_dashboard_pages_render(client: Client, tokens: Tokens, slug: str) -> None:
    response = client.get(f"/dashboards/{slug}", headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    assert "<h1>" in response.text
    assert "<td>[" not in response.text and "<td>{" not in response.text  # lists read as text, not repr


def test_api_responses_carry_security_headers(client: Client, tokens: Tokens) -> None:
    for response in (client.get("/api/me", headers=auth(tokens.admin)), client.get("/login")):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_api_dashboard_opens_on_the_lakes_last_week(client: Client, tokens: Tokens) -> None:
    from datetime import UTC, datetime, timedelta

    newest = client.get("/api/status", headers=auth(tokens.admin)).json()["status"]["newest_event"]
    expected = (datetime.fromisoformat(newest) - timedelta(days=6)).date().isoformat()
    page = client.get("/dashboards/general-operations", headers=auth(tokens.admin)).text
    assert f'name="since" value="{expected}"' in page
    all_time = client.get("/dashboards/general-operations?since=", headers=auth(tokens.admin)).text
    assert 'name="since" value=""' in all_time
    assert datetime.fromisoformat(newest) <= datetime.now(UTC)


def test_api_admin_page_manages_grants_and_refuses_others(client: Client, tokens: Tokens, lake: Lake) -> None:
    assert client.get("/admin", headers=auth(tokens.alice)).status_code == 403
    refused = client.post(
        "/admin/grants", data={"principal": "alice", "accounts": "all"}, headers=auth(tokens.alice)
    )
    assert refused.status_code == 403
    made = client.post(
        "/admin/grants",
        data={"principal": "nobody", "accounts": ACCOUNT_B, "tables": "cloudtrail"},
        headers=auth(tokens.admin),
    )
    assert made.status_code == 200 and "Granted (" in made.text
    seen = client.post(
        "/api/query",
        json={"sql": "SELECT DISTINCT recipientAccountId FROM cloudtrail"},
        headers=auth(tokens.nobody),
    )
    assert seen.json()["rows"] == [[ACCOUNT_B]]
    created = client.post("/admin/tokens", data={"user": "nobody"}, headers=auth(tokens.admin))
    secret = re.search(r"th_[A-Za-z0-9_\-]{43}", created.text)
    assert secret is not None and client.get("/api/me", headers=auth(secret.group(0))).status_code == 200
    rows = [r for r in read_audit(lake) if r["statement_type"] == "ADMIN"]
    assert any(
        r["statement"].startswith("GRANT cloudtrail ON ACCOUNTS") and r["user"] == "admin" for r in rows
    )
    assert secret.group(0) not in json.dumps(rows)


def test_api_session_form_post_without_csrf_is_refused(client: Client, tokens: Tokens) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    client.post("/login", data={"token": tokens.admin, "csrf": csrf.group(1), "next": "/"})
    refused = client.post("/admin/grants", data={"principal": "alice", "accounts": "all"})
    assert refused.status_code == 403 and "CSRF" in refused.text


def _sign_in(client: Client, token: str) -> str:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    client.post("/login", data={"token": token, "csrf": csrf.group(1), "next": "/"})
    page = client.get("/sql")
    session_csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert session_csrf is not None
    return session_csrf.group(1)


def test_api_sign_out_ends_the_session(client: Client, tokens: Tokens) -> None:
    csrf = _sign_in(client, tokens.alice)
    assert client.get("/api/me").status_code == 200
    out = client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_api_revoking_the_token_ends_its_sessions(client: Client, tokens: Tokens, lake: Lake) -> None:
    import time

    from trailhouse.auth.store import AuthStore

    _sign_in(client, tokens.alice)
    assert client.get("/api/me").status_code == 200
    store = AuthStore(lake, refresh_seconds=0)
    [info] = store.tokens_of("alice")
    store.revoke_token(info.token_id)
    time.sleep(2.1)  # the server re-reads the auth tables at most every 2 s
    assert client.get("/api/me").status_code == 401
