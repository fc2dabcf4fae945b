"""The HTTP app: routes, and the one middleware that authenticates, audits and measures every request.

No route is reachable anonymously except the sign-in page and static files; every request,
allowed or denied, gets one audit record; every error has one shape
`{"ok": false, "error": "...", "status": N}` (pages render the same message as HTML).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trailhouse.api import pages, routes_api
from trailhouse.api.context import AppState, AuditNote, app_state
from trailhouse.api.metrics import Metrics
from trailhouse.api.security import (
    LOGIN_CSRF_COOKIE,
    UNSAFE_METHODS,
    CsrfError,
    FailureLimiter,
    Principal,
    Sessions,
    authenticate,
    check_csrf,
)
from trailhouse.api.service import Service
from trailhouse.auth.audit import AuditEvent, AuditWriter
from trailhouse.auth.store import AuthStore, session_secret
from trailhouse.errors import AuthError, QueryError, QueryRefusedError, TrailhouseError, UsageError
from trailhouse.lake import Lake
from trailhouse.query.sandbox import NotGrantedError

log = logging.getLogger("trailhouse.api")
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = frozenset({"/login"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Pages load only their own scripts and styles, cannot be framed, and leak no referrer.
SECURITY_HEADERS = (
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)


def wants_json(path: str) -> bool:
    return path.startswith("/api/") or path == "/metrics"


def status_of(error: Exception) -> int:
    if isinstance(error, HTTPException):
        return error.status_code
    if isinstance(error, NotGrantedError | CsrfError):
        return 403
    if isinstance(error, AuthError):
        return 401
    if isinstance(error, QueryRefusedError | QueryError | UsageError):
        return 400
    if isinstance(error, TrailhouseError):
        return 500
    return 500


def error_body(message: str, status: int) -> dict[str, Any]:
    return {"ok": False, "error": message, "status": status}


def statement_type(method: str, path: str) -> str:
    if path.startswith("/static/") or path == "/metrics":
        return "INTERNAL"
    if path == "/login":
        return "LOGIN"
    if path == "/logout":
        return "LOGOUT"
    if path.startswith("/admin"):
        return "ADMIN"
    if path in ("/api/query", "/sql.csv") or (path == "/sql" and method == "POST"):
        return "QUERY"
    if path.startswith("/api/reports") or path.startswith("/dashboards"):
        return "REPORT"
    if path.startswith("/api/events") or path.startswith("/events"):
        return "EVENT"
    if path.endswith("status"):
        return "STATUS"
    return "PAGE"


class Gate:
    """ASGI middleware: authenticate, enforce sign-in and CSRF, then audit and measure."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, wall = time.monotonic(), datetime.now(UTC)
        conn = HTTPConnection(scope)
        path, method = scope["path"], scope["method"]
        query = f"?{conn.url.query}" if conn.url.query else ""
        audit = AuditNote(statement_type(method, path), f"{method} {path}{query}")
        scope.setdefault("state", {})["audit"] = audit
        client = conn.client.host if conn.client else ""
        status_box = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if not path.startswith(PUBLIC_PREFIXES):
                    headers["cache-control"] = "no-store"
            await send(message)

        auth_failure = False
        try:
            refusal = self._gate(conn, scope, path, method, client)
            if refusal is not None:
                auth_failure = refusal.status_code in (401, 403, 429)
                audit.error = audit.error or refusal.headers.get("x-trailhouse-error", "refused")
                await refusal(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            status = status_box[0]
            who: Principal | None = scope["state"].get("principal")
            user = who.user.name if who else audit.user
            self.state.metrics.observe(method, path, status, time.monotonic() - started)
            self.state.writer.write(
                AuditEvent(
                    start=wall,
                    end=datetime.now(UTC),
                    user=user,
                    status="ok" if status < 400 else (audit.error or f"HTTP {status}"),
                    statement_type=audit.statement_type,
                    statement=audit.statement,
                    auth_failure=auth_failure or status in (401, 403, 429),
                    client_application=conn.headers.get("user-agent", ""),
                    client_network_address=f"{client}:{conn.client.port}" if conn.client else "",
                    num_results_returned=audit.rows,
                    tables=audit.tables,
                    views=audit.views,
                    functions=audit.functions,
                    roles=audit.roles,
                    request_id=uuid.uuid4().hex,
                )
            )

    def _gate(
        self, conn: HTTPConnection, scope: Scope, path: str, method: str, client: str
    ) -> Response | None:
        state = self.state
        wait = state.limiter.retry_after(client)
        has_credentials = conn.headers.get("authorization") is not None or (
            path == "/login" and method == "POST"
        )
        if wait and has_credentials:
            message = f"Too many failed sign-ins from '{client}'\nWait {wait} s before trying again."
            return _refuse(path, message, 429, {"retry-after": str(wait)})
        try:
            who = authenticate(conn, state.store, state.sessions)
        except AuthError as error:
            state.limiter.fail(client)
            return _refuse(path, str(error), 401, {"www-authenticate": "Bearer"})
        scope["state"]["principal"] = who
        if who is None:
            if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
                return None
            message = (
                "Sign-in required\nSend 'Authorization: Bearer <token>' or sign in at /login; "
                "'trailhouse token create USER --lake L' makes a token."
            )
            existing = conn.cookies.get(LOGIN_CSRF_COOKIE, "")
            return _refuse(
                path,
                message,
                401,
                {"www-authenticate": "Bearer"},
                login=not wants_json(path),
                existing=existing,
            )
        content_type = conn.headers.get("content-type", "")
        if method in UNSAFE_METHODS and not content_type.startswith(FORM_TYPES):
            try:  # form posts are checked by their handler (the token is a form field)
                check_csrf(who, conn.headers.get("x-csrf-token"))
            except CsrfError as error:
                return _refuse(path, str(error), 403)
        return None


def _refuse(
    path: str,
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
    *,
    login: bool = False,
    existing: str = "",
) -> Response:
    headers = {**(headers or {}), "x-trailhouse-error": message.splitlines()[0]}
    if wants_json(path):
        return JSONResponse(error_body(message, status), status_code=status, headers=headers)
    return pages.refusal_page(message, status, headers, login=login, next_path=path, existing=existing)


async def handle_error(request: Request, error: Exception) -> Response:
    status = status_of(error)
    if isinstance(error, HTTPException):
        message = str(error.detail)
    elif status == 500:
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
        message = "Internal error\nThe server log has the details; please report it."
    else:
        message = str(error)
    audit = getattr(request.state, "audit", None)
    if isinstance(audit, AuditNote):
        audit.error = message.splitlines()[0]
    if wants_json(request.url.path):
        return JSONResponse(error_body(message, status), status_code=status)
    return pages.error_page(request, message, status)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(lake: Lake, *, secure_cookies: bool = False, service: Service | None = None) -> Starlette:
    """The Trailhouse ASGI app over `lake`. `secure_cookies`: mark session cookies Secure (HTTPS)."""
    templates = pages.TEMPLATES
    service = service or Service(lake)
    state = AppState(
        lake=lake,
        store=AuthStore(lake),
        sessions=Sessions(session_secret(lake), secure=secure_cookies),
        service=service,
        writer=AuditWriter(lake, "api"),
        limiter=FailureLimiter(),
        metrics=Metrics(service.status_cached),
        templates=templates,
        secure_cookies=secure_cookies,
    )
    routes = [
        *routes_api.ROUTES,
        *pages.ROUTES,
        Mount(
            "/static",
            app=StaticFiles(directory=str(resources.files("trailhouse.api") / "static")),
            name="static",
        ),
        Route("/metrics", metrics_endpoint),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        warmer = threading.Thread(
            target=keep_dashboards_warm, args=(service, stop), name="trailhouse-warm", daemon=True
        )
        warmer.start()
        yield
        stop.set()
        service.close()
        state.writer.close()  # an s3:// lake's gathered audit records

    app = Starlette(
        lifespan=lifespan,
        routes=routes,
        exception_handlers={
            Exception: handle_error,
            HTTPException: handle_error,
            TrailhouseError: handle_error,
        },
    )
    app.state.trailhouse = state
    app.add_middleware(Gate, state=state)
    return app


async def metrics_endpoint(request: Request) -> Response:
    return Response(app_state(request).metrics.render(), media_type="text/plain; version=0.0.4")


def keep_dashboards_warm(service: Service, stop: threading.Event, every: float = 30.0) -> None:
    """Compute the dashboards' default views into the report cache: at start-up for administrators,
    then, whenever the lake's tables move, for every grants scope that viewed a dashboard lately."""
    from trailhouse.api.dashboards import DASHBOARDS
    from trailhouse.api.params import parse_filters, report_params
    from trailhouse.auth.grants import effective_access

    service.note_viewer(effective_access("(warm-up)", (), True, []))
    warmed: tuple[int | None, ...] | None = None
    while not stop.is_set():
        try:
            versions = service.pool.versions()
            if versions != warmed:
                warmed = versions
                filters = parse_filters({"since": service.default_since()})
                runs = [(board.report, report_params(filters, {})) for board in DASHBOARDS]
                for access in service.recent_viewers():
                    if stop.is_set():
                        return
                    service.warm(access, runs)
        except Exception:  # never let the warmer die; page views report errors properly
            log.warning("dashboard warm-up failed", exc_info=True)
        stop.wait(every)
