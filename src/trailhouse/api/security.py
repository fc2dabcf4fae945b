"""Who is calling: bearer tokens, signed session cookies, CSRF tokens and the sign-in rate limit.

Session cookies are signed with itsdangerous (key: auth.store.session_secret), HttpOnly,
SameSite=Strict, and Secure unless the server listens on a loopback address (see docs/security.md).
A session remembers the token it was opened with, so revoking that token ends the session.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection

from trailhouse.auth.grants import Access
from trailhouse.auth.store import AuthStore, User
from trailhouse.errors import AuthError

SESSION_COOKIE = "trailhouse_session"
LOGIN_CSRF_COOKIE = "trailhouse_login_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    user: User
    access: Access
    token_id: str
    via: Literal["token", "session"]
    csrf: str  # the session's CSRF token ("" for bearer requests, which carry no ambient credential)


class FailureLimiter:
    """At most `limit` failed sign-ins (or bad tokens) per client address in `window` seconds."""

    def __init__(self, limit: int = 10, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0: not blocked)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return 0
            return max(1, int(self.window - (now - times[0])) + 1)

    def fail(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures.clear()


class Sessions:
    """Signs and reads session cookies."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="trailhouse-session")
        self.secure = secure

    def issue(self, user: str, token_id: str) -> tuple[str, str]:
        """(cookie value, CSRF token) of a new session."""
        csrf = secrets.token_urlsafe(24)
        return self.serializer.dumps({"u": user, "t": token_id, "c": csrf}), csrf

    def read(self, value: str) -> tuple[str, str, str] | None:
        try:
            data = self.serializer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "utc"):
            return None
        return data["u"], data["t"], data["c"]

    def cookie_options(self) -> dict[str, object]:
        return {"httponly": True, "samesite": "strict", "secure": self.secure, "path": "/"}


def bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


def authenticate(conn: HTTPConnection, store: AuthStore, sessions: Sessions) -> Principal | None:
    """The caller, or None when anonymous; AuthError for a bad bearer token."""
    token = bearer(conn)
    if token is not None:
        user, info = store.authenticate(token)
        return Principal(user, store.access(user), info.token_id, "token", "")
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = sessions.read(cookie)
    if found is None:
        return None
    name, token_id, csrf = found
    user_or_none = store.user(name)
    if user_or_none is None or not store.token_is_live(token_id):
        return None
    return Principal(user_or_none, store.access(user_or_none), token_id, "session", csrf)


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def check_csrf(principal: Principal, given: str | None) -> None:
    """Refuse an unsafe request made with a session cookie but without the session's CSRF token."""
    if principal.via == "session" and not csrf_matches(principal.csrf, given):
        raise CsrfError("Missing or wrong CSRF token\nReload the page and try again.")


class CsrfError(AuthError):
    """An unsafe request with a session cookie but without its CSRF token (HTTP 403)."""
