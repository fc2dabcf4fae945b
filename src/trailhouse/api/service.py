"""What the HTTP app does for a signed-in user: sandboxed SQL, reports, events, status.

Every method takes the caller's `Access` and runs on an `Engine` scoped to it (granted tables,
granted accounts, DuckDB locked down), so no route can forget the grants. Engines are pooled per
scope and rebuilt when a table's Delta version moves.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from trailhouse import config
from trailhouse.auth import audit
from trailhouse.auth.grants import ADMIN_AUDIT_TABLE, AUDIT_VIEWS, Access
from trailhouse.errors import QueryRefusedError
from trailhouse.lake import Lake
from trailhouse.query.engine import ACCOUNT_COLUMN, TABLES, Engine, Scope, view_definitions
from trailhouse.query.sandbox import CheckedStatement, NotGrantedError, check_statement

AUDIT_RELATIONS = AUDIT_VIEWS | {ADMIN_AUDIT_TABLE}
DEFAULT_DAYS = 7  # dashboards open on the lake's last week
REPORT_TIME_FACTOR = 4  # a report (several queries) may take this many times query_timeout_seconds
log = logging.getLogger("trailhouse.api")
# Drill-down filters: query-string name -> SQL expression on cloudtrail (values are bound).
DRILL_COLUMNS = {
    "eventName": "eventName",
    "eventSource": "eventSource",
    "errorCode": "errorCode",
    "awsRegion": "awsRegion",
    "recipientAccountId": "recipientAccountId",
    "sourceIPAddress": "sourceIPAddress",
    "userName": '"userIdentity".userName',
    "arn": '"userIdentity".arn',
    "userType": '"userIdentity".type',
    "eventType": "eventType",
    "hasError": "",  # "1": only events with an errorCode
}
EVENT_LIST_COLUMNS = (
    "eventTime",
    "eventID",
    "recipientAccountId",
    "awsRegion",
    "eventSource",
    "eventName",
    "errorCode",
    "sourceIPAddress",
)


@dataclass(frozen=True)
class QueryOutcome:
    table: pa.Table
    truncated: bool
    statement: CheckedStatement
    seconds: float


def scope_for(access: Access) -> Scope:
    """The engine scope of an access: base tables to register and accounts to filter to."""
    if access.relations is None:
        tables: frozenset[str] | None = None if not access.denied else frozenset(TABLES) - access.denied
    else:
        tables = access.relations & frozenset(TABLES)
        if access.relations - frozenset(TABLES) - AUDIT_RELATIONS:
            # granted views read the account-scoped tables (filtered like the tables themselves)
            tables |= frozenset(ACCOUNT_COLUMN)
    return Scope(tables=tables, accounts=access.accounts, sandboxed=True)


class EnginePool:
    """Idle engines per scope; the lake's table versions are checked at most every `check_seconds`."""

    def __init__(self, lake: Lake, *, check_seconds: float = 5.0, size: int = 8, slots: int = 0) -> None:
        self.lake = lake
        # Queries running at once: more only thrash the cores (each engine already uses 2 threads).
        self._slots = threading.BoundedSemaphore(slots or max(2, os.cpu_count() or 2))
        self.check_seconds = check_seconds
        self.size = size
        self._lock = threading.Lock()
        self._idle: dict[tuple[Scope, tuple[int | None, ...]], list[Engine]] = {}
        self._versions: tuple[int | None, ...] = ()
        self._checked = -1e9
        self._quiet = threading.Condition()  # engines in use, and when the last one came back
        self._in_use = 0
        self._last_use = -1e9
        self._thread = threading.local()

    def versions(self) -> tuple[int | None, ...]:
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            versions = tuple(self.lake.version(t) for t in TABLES)
            with self._lock:
                if versions != self._versions:
                    stale = [e for key, idle in self._idle.items() if key[1] != versions for e in idle]
                    self._idle = {k: v for k, v in self._idle.items() if k[1] == versions}
                    for engine in stale:
                        engine.close()
                self._versions, self._checked = versions, now
        return self._versions

    @contextlib.contextmanager
    def engine(self, scope: Scope) -> Iterator[Engine]:
        if getattr(self._thread, "background", False):
            with self._slots:
                yield from self._engine(scope)
            return
        with self._quiet:
            self._in_use += 1
        try:
            with self._slots:
                yield from self._engine(scope)
        finally:
            with self._quiet:
                self._in_use -= 1
                self._last_use = time.monotonic()
                self._quiet.notify_all()

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        """Engines this thread takes inside the block are not use that `wait_quiet` waits out."""
        self._thread.background = True
        try:
            yield
        finally:
            self._thread.background = False

    def wait_quiet(self, quiet: float, *, longest: float) -> None:
        """Wait until no engine has been in use for `quiet` seconds (at most `longest` seconds).

        Background work (the dashboard warmer) calls this first, so it does not halve the cores
        under a page someone is waiting for: on two cores a report beside a page doubled the
        page's time (general-operations 650 ms instead of 280 ms while the warmer ran)."""
        deadline = time.monotonic() + longest
        with self._quiet:
            while (now := time.monotonic()) < deadline:
                idle_for = now - self._last_use
                if self._in_use == 0 and idle_for >= quiet:
                    return
                wait = quiet - idle_for if self._in_use == 0 else deadline - now
                self._quiet.wait(min(wait, deadline - now))

    def _engine(self, scope: Scope) -> Iterator[Engine]:
        key = (scope, self.versions())
        with self._lock:
            idle = self._idle.get(key)
            engine = idle.pop() if idle else None
        if engine is None:
            engine = Engine(self.lake, scope)
        try:
            yield engine
        finally:
            with self._lock:
                idle = self._idle.setdefault(key, []) if key[1] == self._versions else None
                keep = idle is not None and len(idle) < self.size
                if keep and idle is not None:
                    idle.append(engine)
            if not keep:
                engine.close()

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for engine in idle:
                    engine.close()
            self._idle.clear()


class ResultCache:
    """Finished report results by key (scope, report, parameters, table versions), least recently used
    dropped first. Concurrent requests for one key wait for the first instead of all computing it."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, threading.Event] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        while True:
            with self._lock:
                if key in self._done:
                    self._done.move_to_end(key)
                    return self._done[key]
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                running.wait()
                continue  # done, or failed (then this thread tries itself)
            try:
                value = compute()
                with self._lock:
                    self._done[key] = value
                    while len(self._done) > self.size:
                        self._done.popitem(last=False)
                return value
            finally:
                with self._lock:
                    self._running.pop(key, None)
                running.set()


class Service:
    """The use cases behind the routes, for one lake."""

    def __init__(self, lake: Lake, *, timeout: float | None = None, row_limit: int | None = None) -> None:
        self.lake = lake
        self.pool = EnginePool(lake)
        self.timeout = timeout if timeout is not None else float(config.setting("query_timeout_seconds"))
        self.row_limit = row_limit if row_limit is not None else int(config.setting("query_row_limit"))
        self._status: tuple[float, dict[str, Any]] | None = None
        self._newest: tuple[tuple[int | None, ...], datetime | None] | None = None
        self.reports = ResultCache()
        self._viewers: dict[Scope, tuple[Access, float]] = {}
        self._viewers_lock = threading.Lock()

    def relations(self, access: Access) -> list[str]:
        """Tables and views the caller may query (those this lake has)."""
        present = [t for t in TABLES if self.lake.exists(t)]
        names = present + [name for name, _ in view_definitions()] + sorted(AUDIT_RELATIONS)
        return sorted({n for n in names if access.may_query(n)})

    def run_sql(self, access: Access, sql: str) -> QueryOutcome:
        """Check `sql` against the sandbox and the grants, then run it with the time and row limits."""
        checked = check_statement(sql, access.may_query)
        started = time.monotonic()
        wants_audit = bool(set(checked.relations) & AUDIT_RELATIONS)
        if wants_audit and set(checked.relations) - AUDIT_RELATIONS:
            raise QueryRefusedError(
                "Statement refused: audit views cannot be joined with other tables\n"
                "Query the audit views on their own."
            )
        if wants_audit:
            engine = self._audit_engine(access)
            try:
                table, truncated = engine.query_limited(
                    checked.sql, timeout=self.timeout, max_rows=self.row_limit
                )
            finally:
                engine.close()
        else:
            with self.pool.engine(scope_for(access)) as engine:
                table, truncated = engine.query_limited(
                    checked.sql, timeout=self.timeout, max_rows=self.row_limit
                )
        return QueryOutcome(table, truncated, checked, time.monotonic() - started)

    def _audit_engine(self, access: Access) -> Engine:
        engine = Engine(self.lake, Scope(tables=frozenset(), accounts=frozenset(), sandboxed=True))
        audit.register_audit_views(
            engine, self.lake, is_admin=access.is_admin, administered=access.administered
        )
        return engine

    def _require(self, access: Access, relation: str) -> None:
        if not access.may_query(relation):
            raise NotGrantedError(
                f"No grant on '{relation}'\n"
                "Ask an administrator for a grant ('trailhouse grant USER --accounts ... --lake L')."
            )

    def run_report(self, access: Access, name: str, params: Any) -> Any:
        """Run a named report on the caller's scope (reports read `cloudtrail`, so that grant is needed)."""
        from trailhouse.query import reports

        self._require(access, "cloudtrail")
        spec = reports.get_report(name)
        scope = scope_for(access)
        key = (
            scope, spec.name, params.since, params.until, params.account, params.region, params.limit,
            tuple(sorted(params.extra.items())), self.pool.versions(),
        )  # fmt: skip

        def compute() -> Any:
            with self.pool.engine(scope) as engine:
                # Reports are trusted SQL but still bounded: REPORT_TIME_FACTOR x query_timeout_seconds.
                timer = threading.Timer(self.timeout * REPORT_TIME_FACTOR, engine.connection.interrupt)
                timer.daemon = True
                timer.start()
                try:
                    return reports.run_report(engine, spec.name, params)
                finally:
                    timer.cancel()

        return self.reports.get_or_compute(key, compute)

    def list_events(
        self, access: Access, filters: dict[str, str], since: Any, until: Any, limit: int
    ) -> pa.Table:
        """The events behind a number: cloudtrail rows matching drill-down filters, newest first."""
        self._require(access, "cloudtrail")
        clauses, params = [], []
        for key, value in filters.items():
            if key == "hasError":
                clauses.append("errorCode IS NOT NULL")
                continue
            column = DRILL_COLUMNS.get(key)
            if column is None:
                continue
            if value == "":
                clauses.append(f"{column} IS NULL")
            else:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("eventTime >= ?")
            params.append(since)
        if until is not None:
            clauses.append("eventTime < ?")
            params.append(until)
        where = " AND ".join(clauses) or "TRUE"
        sql = (
            f"SELECT {', '.join(EVENT_LIST_COLUMNS)} FROM cloudtrail WHERE {where} "
            f"ORDER BY eventTime DESC LIMIT {int(limit)}"
        )
        with self.pool.engine(scope_for(access)) as engine:
            if "cloudtrail" not in engine.tables:
                return pa.table({c: pa.array([], pa.string()) for c in EVENT_LIST_COLUMNS})
            table, _ = engine.query_limited(sql, params, timeout=self.timeout, max_rows=limit)
        return table

    def event(self, access: Access, event_id: str) -> dict[str, Any] | None:
        """The full original record of one event, or None (also when its account is not granted)."""
        from trailhouse.ingest.export import original_records

        self._require(access, "cloudtrail")
        with self.pool.engine(scope_for(access)) as engine:
            if "cloudtrail" not in engine.tables:
                return None
            table, _ = engine.query_limited(
                "SELECT * FROM cloudtrail WHERE eventID = ? LIMIT 1",
                [event_id],
                timeout=self.timeout,
                max_rows=1,
            )
        if table.num_rows == 0:
            return None
        return next(original_records(table, "cloudtrail"))

    def status(self) -> dict[str, Any]:
        """The lake's status: ledger reconciliation, lag, backlog, last ingest, tables."""
        from trailhouse.ingest.status import lake_status

        result: dict[str, Any] = lake_status(self.lake).as_dict()
        return result

    def default_since(self, days: int = DEFAULT_DAYS) -> str:
        """The dashboards' default start: `days` days before the newest event (the lake's own
        "last week", so an older lake does not open on empty pages); "" when the lake is empty."""
        newest = self.newest_event()
        if newest is None:
            return ""
        start = newest - timedelta(days=days - 1)
        return start.date().isoformat()

    def newest_event(self) -> datetime | None:
        """The newest eventTime (file statistics), read again only when a table's version moves:
        every dashboard view asks, and the whole status (it reads the ledger) took 20-70 ms."""
        versions = self.pool.versions()
        cached = self._newest
        if cached is None or cached[0] != versions:
            newest = self.lake.column_max("cloudtrail", "eventTime")
            cached = (versions, newest if isinstance(newest, datetime) else None)
            self._newest = cached
        return cached[1]

    def note_viewer(self, access: Access) -> None:
        """Remember that this grants scope viewed a dashboard (the warmer keeps its pages ready)."""
        with self._viewers_lock:
            self._viewers[scope_for(access)] = (access, time.monotonic())

    def recent_viewers(self, within: float = 3600.0) -> list[Access]:
        now = time.monotonic()
        with self._viewers_lock:
            for scope in [s for s, (_, seen) in self._viewers.items() if now - seen > within]:
                del self._viewers[scope]
            return [access for access, _ in self._viewers.values()]

    def warm(self, access: Access, runs: list[tuple[str, Any]], *, quiet: float = 0.5) -> None:
        """Compute reports into the cache ahead of the first page view (errors are left for that view).

        Each report waits until no query has run for `quiet` seconds (at most a minute), so page
        views and API calls keep the cores."""
        for name, params in runs:
            self.pool.wait_quiet(quiet, longest=60.0)
            try:
                with self.pool.background():
                    self.run_report(access, name, params)
            except Exception:  # the page view will report it properly
                log.warning("warming report %s failed", name, exc_info=True)

    def status_cached(self, max_age: float = 10.0) -> dict[str, Any]:
        """`status()`, recomputed at most every `max_age` seconds (it reads the whole ledger)."""
        now = time.monotonic()
        cached = self._status
        if cached is None or now - cached[0] > max_age:
            cached = (now, self.status())
            self._status = cached
        return cached[1]

    def close(self) -> None:
        self.pool.close()
