"""Per-request context the routes read: the caller, the audit note, the app's shared state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from trailhouse.errors import AuthError

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

    from trailhouse.api.metrics import Metrics
    from trailhouse.api.security import FailureLimiter, Principal, Sessions
    from trailhouse.api.service import Service
    from trailhouse.auth.audit import AuditWriter
    from trailhouse.auth.store import AuthStore
    from trailhouse.lake import Lake


@dataclass
class AuditNote:
    """What a handler adds to the request's audit record."""

    statement_type: str
    statement: str
    rows: int = 0
    tables: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    error: str = ""
    user: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AppState:
    lake: Lake
    store: AuthStore
    sessions: Sessions
    service: Service
    writer: AuditWriter
    limiter: FailureLimiter
    metrics: Metrics
    templates: Jinja2Templates
    secure_cookies: bool


def note(conn: HTTPConnection) -> AuditNote:
    found: AuditNote = conn.state.audit
    return found


def principal(conn: HTTPConnection) -> Principal:
    found: Principal | None = getattr(conn.state, "principal", None)
    if found is None:  # the gate lets no anonymous request reach a route that calls this
        raise AuthError("Sign-in required")
    return found


def app_state(conn: HTTPConnection) -> AppState:
    found: AppState = conn.app.state.trailhouse
    return found
