"""The JSON API: /api/query, /api/reports, /api/events, /api/status, /api/tables, /api/me."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trailhouse.api import results
from trailhouse.api.context import app_state, note, principal
from trailhouse.api.openapi import openapi_document
from trailhouse.api.params import parse_filters, report_params
from trailhouse.api.service import DRILL_COLUMNS, QueryOutcome
from trailhouse.errors import QueryRefusedError, UsageError
from trailhouse.query.engine import TABLES

MAX_SQL = 100_000


def ok(payload: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse({"ok": True, **payload}, status_code=status)


def note_relations(request: Request, relations: tuple[str, ...]) -> None:
    audit = note(request)
    audit.tables = tuple(r for r in relations if r in TABLES)
    audit.views = tuple(r for r in relations if r not in TABLES)


async def run_sql(request: Request, sql: str) -> QueryOutcome:
    """Run user SQL for the caller, recording the statement and what it touched in the audit note."""
    audit = note(request)
    audit.statement_type, audit.statement = "QUERY", sql
    if not sql.strip():
        raise UsageError('Empty statement\nSend {"sql": "SELECT ..."}.')
    if len(sql) > MAX_SQL:
        raise UsageError(f"Statement too long ({len(sql)} characters)\nThe limit is {MAX_SQL}.")
    from trailhouse.query.sandbox import check_statement

    who = principal(request)
    with contextlib.suppress(QueryRefusedError):  # the check with grants, below, raises for the user
        checked = check_statement(sql, lambda _name: True)  # names only, for the audit record
        note_relations(request, checked.relations)
        audit.functions = checked.functions
    outcome: QueryOutcome = await run_in_threadpool(app_state(request).service.run_sql, who.access, sql)
    audit.rows = outcome.table.num_rows
    return outcome


async def api_query(request: Request) -> Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UsageError(
            'Request body is not JSON\nSend {"sql": "SELECT ..."} with Content-Type: application/json.'
        ) from None
    sql = body.get("sql") if isinstance(body, dict) else None
    if not isinstance(sql, str):
        raise UsageError('Missing "sql"\nSend {"sql": "SELECT ..."}.')
    outcome = await run_sql(request, sql)
    return ok(
        {
            "columns": results.columns(outcome.table),
            "rows": results.rows(outcome.table),
            "row_count": outcome.table.num_rows,
            "truncated": outcome.truncated,
            "seconds": round(outcome.seconds, 4),
        }
    )


def report_specs() -> list[Any]:
    from trailhouse.query.reports import list_reports

    return list_reports()


async def api_reports(request: Request) -> Response:
    specs = report_specs()
    return ok(
        {
            "reports": [
                {
                    "name": s.name,
                    "description": s.description,
                    "params": list(s.params),
                    "sections": list(s.sections),
                }
                for s in specs
            ]
        }
    )


async def run_report(request: Request, name: str, values: dict[str, str], default_since: str = "") -> Any:
    audit = note(request)
    audit.statement_type = "REPORT"
    known = {s.name: s for s in report_specs()}
    if name not in known:
        raise HTTPException(404, f"No report '{name}'\nGET /api/reports lists them.")
    filters = parse_filters(values, default_since=default_since)
    params = report_params(filters)
    audit.views = (name,)
    audit.tables = ("cloudtrail",)
    result = await run_in_threadpool(
        app_state(request).service.run_report, principal(request).access, name, params
    )
    audit.rows = sum(t.num_rows for t in result.sections.values())
    return filters, result


async def api_report(request: Request) -> Response:
    name = request.path_params["name"]
    filters, result = await run_report(request, name, dict(request.query_params))
    return ok(
        {
            "report": name,
            "params": {**filters.query(), "limit": filters.limit, **filters.extra},
            "sections": {
                section: {"columns": results.columns(table), "rows": results.rows(table)}
                for section, table in result.sections.items()
            },
        }
    )


async def api_event(request: Request) -> Response:
    event_id = request.path_params["id"]
    audit = note(request)
    audit.tables = ("cloudtrail",)
    record = await run_in_threadpool(app_state(request).service.event, principal(request).access, event_id)
    if record is None:
        raise HTTPException(404, f"No event '{event_id}' that you may see\nCheck the eventID.")
    audit.rows = 1
    return ok({"event": results.plain(record)})


async def list_events(request: Request) -> Any:
    values = dict(request.query_params)
    filters = parse_filters(values, max_limit=1000)
    drill = {k: v for k, v in values.items() if k in DRILL_COLUMNS}
    if filters.account:
        drill["recipientAccountId"] = filters.account
    if filters.region:
        drill["awsRegion"] = filters.region
    audit = note(request)
    audit.tables = ("cloudtrail",)
    table = await run_in_threadpool(
        app_state(request).service.list_events,
        principal(request).access,
        drill,
        filters.since,
        filters.until,
        filters.limit,
    )
    audit.rows = table.num_rows
    return filters, drill, table


async def api_events(request: Request) -> Response:
    _filters, _drill, table = await list_events(request)
    return ok({"columns": results.columns(table), "rows": results.rows(table)})


async def api_status(request: Request) -> Response:
    status = await run_in_threadpool(app_state(request).service.status_cached)
    return ok({"status": results.plain(status)})


async def api_tables(request: Request) -> Response:
    names = await run_in_threadpool(app_state(request).service.relations, principal(request).access)
    return ok({"tables": names})


async def api_me(request: Request) -> Response:
    who = principal(request)
    access = who.access
    return ok(
        {
            "user": who.user.name,
            "is_admin": who.user.is_admin,
            "groups": list(who.user.groups),
            "accounts": None if access.accounts is None else sorted(access.accounts),
            "relations": None if access.relations is None else sorted(access.relations),
        }
    )


async def api_openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def api_not_found(request: Request) -> Response:
    raise HTTPException(404, f"No such endpoint '{request.url.path}'\nGET /api/openapi.json lists them.")


ROUTES = [
    Route("/api/query", api_query, methods=["POST"]),
    Route("/api/reports", api_reports),
    Route("/api/reports/{name}", api_report),
    Route("/api/events", api_events),
    Route("/api/events/{id}", api_event),
    Route("/api/status", api_status),
    Route("/api/tables", api_tables),
    Route("/api/me", api_me),
    Route("/api/openapi.json", api_openapi),
    Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
