"""The HTML pages: sign-in, dashboards, events and their detail, SQL, status."""

from __future__ import annotations

import json
import secrets
from importlib import resources
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from trailhouse.api import admin, results, routes_api
from trailhouse.api.context import app_state, note, principal
from trailhouse.api.dashboards import BY_SLUG, DASHBOARDS, country_table, section_view
from trailhouse.api.params import COMMON, Filters
from trailhouse.api.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, check_csrf, csrf_matches

TEMPLATES = Jinja2Templates(directory=str(resources.files("trailhouse.api") / "templates"))


def _cell(value: Any) -> Any:
    """A table cell as people read it: lists as comma-separated values, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(_cell(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value


TEMPLATES.env.filters["cell"] = _cell
DEFAULT_SQL = "\n".join(
    [
        "SELECT eventName, count(*) AS events",
        "FROM cloudtrail",
        "GROUP BY eventName",
        "ORDER BY events DESC",
        "LIMIT 20",
    ]
)


def base_context(request: Request, active: str = "") -> dict[str, Any]:
    who = getattr(request.state, "principal", None)
    return {
        "user": who.user.name if who else None,
        "is_admin": bool(who and who.user.is_admin),
        "csrf": who.csrf if who else "",
        "dashboards": DASHBOARDS,
        "active": active,
    }


def render(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {**base_context(request, context.pop("active", "")), **context}, status_code=code
    )


def _safe_next(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def login_form(
    message: str, status: int, next_path: str, headers: dict[str, str] | None = None, existing: str = ""
) -> HTMLResponse:
    """The sign-in form, with a double-submit CSRF token in a cookie and in the form.

    An existing token is reused, so a stray 401 (a favicon, a second tab) does not void an open form.
    """
    token = existing if len(existing) >= 32 else secrets.token_urlsafe(24)
    html = TEMPLATES.get_template("login.html").render(
        message=message, login_csrf=token, next_path=_safe_next(next_path), user=None, dashboards=DASHBOARDS
    )
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/", max_age=3600)
    return response


def refusal_page(
    message: str, status: int, headers: dict[str, str], *, login: bool, next_path: str, existing: str = ""
) -> HTMLResponse:
    if login:
        return login_form("", status, next_path, headers, existing)
    html = TEMPLATES.get_template("error.html").render(
        message=message, status=status, user=None, dashboards=()
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return render(request, "error.html", status, message=message, status=status)


async def login_page(request: Request) -> Response:
    if getattr(request.state, "principal", None) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next", "/")), 303)
    return login_form(
        "", 200, request.query_params.get("next", "/"), existing=request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )


async def login_submit(request: Request) -> Response:
    state = app_state(request)
    form = await request.form()
    next_path = str(form.get("next") or "/")
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf") or "")):
        note(request).error = "sign-in form expired (CSRF)"
        return login_form("The sign-in form expired; please try again.", 403, next_path)
    client = request.client.host if request.client else ""
    try:
        user, info = state.store.authenticate(str(form.get("token") or "").strip())
    except Exception:
        state.limiter.fail(client)
        note(request).error = "sign-in failed: invalid or revoked token"
        return login_form("Sign-in failed: invalid or revoked token.", 401, next_path)
    note(request).user = user.name
    cookie, _csrf = state.sessions.issue(user.name, info.token_id)
    response = RedirectResponse(_safe_next(next_path), 303)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=12 * 3600, **state.sessions.cookie_options())  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(principal(request), str(form.get("csrf") or ""))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def home(request: Request) -> Response:
    return RedirectResponse("/dashboards/general-operations", 303)


async def dashboard(request: Request) -> Response:
    board = BY_SLUG.get(request.path_params["slug"])
    if board is None:
        raise HTTPException(404, f"No dashboard '{request.path_params['slug']}'")
    spec = {s.name: s for s in routes_api.report_specs()}[board.report]
    values = {k: v for k, v in request.query_params.items() if k in COMMON or k in spec.params}
    if "since" not in request.query_params:  # an explicit empty `since` means all time
        values["since"] = await run_in_threadpool(app_state(request).service.default_since)
        app_state(request).service.note_viewer(principal(request).access)
    interval_param = next((p for p in spec.parameters if p.name == "interval"), None)
    filters, result = await routes_api.run_report(request, board.report, values)
    interval = values.get("interval") or (interval_param.default if interval_param else "") or "day"
    sections = dict(result.sections)
    if "by_source" in sections:
        sections["countries"] = country_table(sections["by_source"])
    charts = {c.section: c for c in board.charts}
    order = [c.section for c in board.charts if c.section in sections]
    order += [s for s in board.lead if s in sections and s not in order]
    order += [s for s in sections if s not in order]
    views = [section_view(s, sections[s], charts.get(s), filters, interval, board.drill_base) for s in order]
    return render(
        request,
        "dashboard.html",
        active=board.slug,
        dashboard=board,
        sections=views,
        filters=filters,
        intervals=interval_param.choices if interval_param else (),
        interval=interval,
    )


async def events(request: Request) -> Response:
    filters, drill, table = await routes_api.list_events(request)
    from trailhouse.api.dashboards import SectionView, drill_link

    records = table.to_pylist()
    view = SectionView(
        name="events",
        title="Events",
        columns=table.column_names,
        rows=results.rows(table, records),
        links=[drill_link(r, Filters(), "day") for r in records],
        chart=None,
    )
    shown = {k: v for k, v in drill.items()}
    return render(request, "events.html", s=view, drill=shown, filters=filters)


async def event(request: Request) -> Response:
    event_id = request.path_params["id"]
    note(request).tables = ("cloudtrail",)
    record = await run_in_threadpool(app_state(request).service.event, principal(request).access, event_id)
    if record is None:
        raise HTTPException(404, f"No event '{event_id}' that you may see\nCheck the eventID.")
    note(request).rows = 1
    text = json.dumps(results.plain(record), indent=2, sort_keys=False, ensure_ascii=False)
    return render(request, "event.html", event_id=event_id, record_json=text)


async def sql_page(request: Request) -> Response:
    state = app_state(request)
    tables = await run_in_threadpool(state.service.relations, principal(request).access)
    return render(
        request,
        "sql.html",
        active="sql",
        sql=request.query_params.get("sql", DEFAULT_SQL),
        tables=tables,
        timeout=f"{state.service.timeout:g}",
        row_limit=state.service.row_limit,
    )


async def sql_csv(request: Request) -> Response:
    form = await request.form()
    check_csrf(principal(request), str(form.get("csrf") or ""))
    outcome = await routes_api.run_sql(request, str(form.get("sql") or ""))
    return PlainTextResponse(
        results.to_csv(outcome.table),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="trailhouse-query.csv"'},
    )


async def status_page(request: Request) -> Response:
    status = await run_in_threadpool(app_state(request).service.status_cached)
    lag = status.get("lag_seconds")
    lag_text = "unknown" if lag is None else f"{lag / 3600:.1f} h" if lag >= 3600 else f"{lag:.0f} s"
    tables = status.get("tables") or []
    if isinstance(tables, dict):
        tables = [{"name": k, **v} for k, v in tables.items()]
    return render(request, "status.html", active="status", status=status, lag=lag_text, tables=tables)


ROUTES = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/dashboards/{slug}", dashboard),
    Route("/events", events),
    Route("/events/{id}", event),
    Route("/sql", sql_page),
    Route("/sql.csv", sql_csv, methods=["POST"]),
    Route("/status", status_page),
    *admin.ROUTES,
]
