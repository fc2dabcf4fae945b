"""The sandbox behind every route: grants filter rows, DuckDB is locked down, limits hold."""

from __future__ import annotations

import pytest

from tests.api.trail_fixtures import ACCOUNT_A, ACCOUNT_B, HIDDEN_EVENT_ID
from trailhouse.api.service import Service
from trailhouse.auth.grants import Access, Grant, effective_access
from trailhouse.errors import QueryError, QueryRefusedError
from trailhouse.lake import Lake
from trailhouse.query.sandbox import NotGrantedError

ADMIN = effective_access("admin", (), True, [])
ALICE = effective_access("alice", (), False, [Grant("g", "alice", None, frozenset({ACCOUNT_A}))])


@pytest.fixture
def service(lake: Lake) -> Service:
    return Service(lake, timeout=5, row_limit=10)


def accounts_seen(service: Service, access: Access) -> set[str]:
    out = service.run_sql(access, "SELECT DISTINCT recipientAccountId FROM cloudtrail")
    return set(out.table.column(0).to_pylist())


def test_service_user_sees_only_granted_accounts(service: Service) -> None:
    assert accounts_seen(service, ADMIN) == {ACCOUNT_A, ACCOUNT_B}
    assert accounts_seen(service, ALICE) == {ACCOUNT_A}


def test_service_hidden_event_is_not_found_for_other_accounts(service: Service) -> None:
    assert service.event(ALICE, HIDDEN_EVENT_ID) is None
    record = service.event(ADMIN, HIDDEN_EVENT_ID)
    assert record is not None and record["eventName"] == "DeleteTrail"


def test_service_row_limit_truncates(service: Service) -> None:
    out = service.run_sql(ADMIN, "SELECT eventID FROM cloudtrail")
    assert out.table.num_rows == 10 and out.truncated


def test_service_time_limit_interrupts(lake: Lake) -> None:
    slow = Service(lake, timeout=0.5, row_limit=10)
    sql = (
        "SELECT sum(hash(a.eventID || b.eventID || c.eventID || d.eventID || e.eventID)) "
        "FROM cloudtrail a, cloudtrail b, cloudtrail c, cloudtrail d, cloudtrail e"
    )
    with pytest.raises(QueryError) as info:
        slow.run_sql(ADMIN, sql)
    assert str(info.value).startswith("Query stopped after 0.5 s (the time limit)")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/trailhouse-escape.csv'",
        "ATTACH '/tmp/trailhouse-escape.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 64",
        "PRAGMA database_list",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        "SELECT 1; SELECT 2",
        "SELECT * FROM __raw_cloudtrail",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM main.cloudtrail",
    ],
)
def test_service_sandbox_escapes_are_refused(service: Service, sql: str) -> None:
    with pytest.raises(QueryRefusedError) as info:
        service.run_sql(ADMIN, sql)
    assert str(info.value).startswith("Statement refused: ")


def test_service_lake_files_cannot_be_read_directly(service: Service, lake: Lake) -> None:
    with pytest.raises(QueryRefusedError):
        service.run_sql(ADMIN, f"SELECT * FROM '{lake.root}/cloudtrail/**/*.parquet'")
    with pytest.raises(QueryRefusedError):
        service.run_sql(ADMIN, f"SELECT * FROM parquet_scan('{lake.root}/cloudtrail/**/*.parquet')")


def test_service_duckdb_refuses_files_even_past_the_parser(service: Service, lake: Lake) -> None:
    """The second wall: a sandboxed engine reads only the tables' folders, never other files or settings.

    (The tables' own Parquet files stay readable to DuckDB, which scans them for the views; the
    statement check above refuses naming them directly.)
    """
    from trailhouse.api.service import scope_for

    with service.pool.engine(scope_for(ADMIN)) as engine:
        for sql in (
            "SELECT * FROM read_csv('/etc/passwd')",
            f"SELECT * FROM read_text('{lake.root}/_auth/*')",
            f"SELECT * FROM read_json('{lake.root}/_audit/**/*.jsonl')",
            "SET enable_external_access = true",
            "COPY (SELECT 1) TO '/tmp/trailhouse-escape.csv'",
        ):
            with pytest.raises(QueryError):
                engine.query_limited(sql, timeout=5, max_rows=1)


def test_service_ungranted_table_is_403_kind(service: Service) -> None:
    with pytest.raises(NotGrantedError):
        service.run_sql(ALICE, "SELECT * FROM ledger")
    with pytest.raises(NotGrantedError):
        service.run_sql(ALICE, "SELECT * FROM audit_logs")


def test_service_report_results_are_cached_per_scope(service: Service) -> None:
    from trailhouse.query.reports import ReportParams

    first = service.run_report(ADMIN, "general-operations", ReportParams())
    assert service.run_report(ADMIN, "general-operations", ReportParams()) is first
    scoped = service.run_report(ALICE, "general-operations", ReportParams())
    assert scoped is not first
    assert set(scoped["by_account"].column("recipientAccountId").to_pylist()) == {ACCOUNT_A}


def test_service_result_cache_computes_once_for_concurrent_callers() -> None:
    import threading
    import time

    from trailhouse.api.service import ResultCache

    cache = ResultCache(size=2)
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    threads = [threading.Thread(target=cache.get_or_compute, args=("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.get_or_compute("k", slow) == 42


def test_service_views_and_reports_never_read_raw_datasets() -> None:
    """Grants filter the table views; SQL that named __raw_* directly would bypass them."""
    from importlib import resources

    for folder in ("views", "reports"):
        for entry in (resources.files("trailhouse.query") / folder).iterdir():
            if entry.name.endswith(".sql"):
                assert "__raw" not in entry.read_text(), f"{folder}/{entry.name} reads a raw dataset"


def test_service_engines_are_locked_down(service: Service) -> None:
    """No file access, no extension loading, no Python replacement scans, settings locked."""
    from trailhouse.api.service import scope_for

    names = [
        "enable_external_access",
        "autoload_known_extensions",
        "python_enable_replacements",
        "lock_configuration",
    ]
    with service.pool.engine(scope_for(ADMIN)) as engine:
        values = [engine.query(f"SELECT current_setting('{n}')").column(0)[0].as_py() for n in names]
    assert values == [False, False, False, True]


def test_service_reports_have_a_time_limit(lake: Lake) -> None:
    from trailhouse.api import service as module
    from trailhouse.query.reports import ReportParams

    quick = Service(lake, timeout=0.0001, row_limit=10)
    assert module.REPORT_TIME_FACTOR * quick.timeout < 0.01
    with pytest.raises(QueryError) as info:
        for _ in range(20):  # a report on this tiny lake may finish before the timer fires
            quick.reports = module.ResultCache()
            quick.run_report(ADMIN, "console-logins", ReportParams())
    assert "INTERRUPT" in str(info.value) or "Interrupted" in str(info.value)


def test_service_warmer_fills_the_cache_for_recent_viewers(service: Service) -> None:
    import threading
    import time

    from trailhouse.api.app import keep_dashboards_warm

    service.note_viewer(ALICE)
    stop = threading.Event()
    warmer = threading.Thread(target=keep_dashboards_warm, args=(service, stop, 0.05))
    warmer.start()
    deadline = time.monotonic() + 60
    while len(service.reports._done) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    warmer.join(timeout=60)
    scopes = {key[0] for key in service.reports._done}
    assert len(service.reports._done) == 10 and len(scopes) == 2  # 5 dashboards x (admin, alice)


def test_service_warmer_waits_for_running_queries(service: Service) -> None:
    """The warmer leaves the cores to queries people are waiting for, then does its work."""
    import threading
    import time

    from trailhouse.api.params import parse_filters, report_params
    from trailhouse.api.service import scope_for

    runs = [("general-operations", report_params(parse_filters({}), {}))]
    warmer = threading.Thread(target=service.warm, args=(ADMIN, runs), kwargs={"quiet": 0.05})
    with service.pool.engine(scope_for(ALICE)):
        warmer.start()
        time.sleep(0.5)
        assert not service.reports._done  # a query is running: nothing warmed yet
    warmer.join(timeout=60)
    assert len(service.reports._done) == 1
