"""The admin page: users, tokens and grants (administrators only; every change is audited)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trailhouse.api.context import app_state, note, principal
from trailhouse.api.security import check_csrf
from trailhouse.auth.grants import parse_accounts, parse_tables
from trailhouse.auth.store import NewToken
from trailhouse.errors import UsageError


def _require_admin(request: Request) -> None:
    if not principal(request).user.is_admin:
        raise HTTPException(403, "Administrators only\nAsk an administrator to change grants or tokens.")


async def _form(request: Request) -> dict[str, str]:
    _require_admin(request)
    form = await request.form()
    check_csrf(principal(request), str(form.get("csrf") or ""))
    return {k: str(v) for k, v in form.items() if k != "csrf"}


async def _page(
    request: Request, *, new_token: NewToken | None = None, message: str = "", status: int = 200
) -> Response:
    from trailhouse.api.pages import render

    store = app_state(request).store
    snap = await run_in_threadpool(store.snapshot)
    users = sorted(snap.users.values(), key=lambda u: u.name)
    tokens = {u.name: store.tokens_of(u.name) for u in users}
    shown: dict[str, Any] | None = None
    if new_token is not None:
        shown = {"user": new_token.info.user, "secret": new_token.secret}
    return render(
        request, "admin.html", status, active="admin", users=users, tokens=tokens, grants=snap.grants,
        new_token=shown, message=message,
    )  # fmt: skip


async def admin_page(request: Request) -> Response:
    _require_admin(request)
    return await _page(request)


def _values(error: ValueError) -> UsageError:
    return UsageError(str(error))


async def add_user(request: Request) -> Response:
    form = await _form(request)
    name = form.get("name", "").strip()
    groups = tuple(g.strip() for g in form.get("groups", "").split(",") if g.strip())
    note(request).statement = f"ADD USER {name}" + (" ADMIN" if form.get("admin") else "")
    note(request).roles = (name,)
    store = app_state(request).store
    try:
        created = await run_in_threadpool(
            lambda: store.add_user(
                name, is_admin=bool(form.get("admin")), groups=groups, by=principal(request).user.name
            )
        )
    except ValueError as error:
        raise _values(error) from None
    return await _page(request, new_token=created)


async def create_token(request: Request) -> Response:
    form = await _form(request)
    name = form.get("user", "").strip()
    note(request).statement = f"CREATE TOKEN FOR {name}"
    note(request).roles = (name,)
    store = app_state(request).store
    created = await run_in_threadpool(lambda: store.create_token(name, by=principal(request).user.name))
    return await _page(request, new_token=created)


async def revoke_token(request: Request) -> Response:
    form = await _form(request)
    token_id = form.get("token_id", "").strip()
    note(request).statement = f"REVOKE TOKEN {token_id}"
    store = app_state(request).store
    info = await run_in_threadpool(lambda: store.revoke_token(token_id, by=principal(request).user.name))
    return await _page(request, message=f"Revoked token {info.token_id} of {info.user}.")


async def add_grant(request: Request) -> Response:
    form = await _form(request)
    who = form.get("principal", "").strip()
    note(
        request
    ).statement = f"GRANT {form.get('tables') or 'all'} ON ACCOUNTS {form.get('accounts')} TO {who}"
    note(request).roles = (who,)
    try:
        accounts = parse_accounts(form.get("accounts", ""))
        tables = parse_tables(form.get("tables"))
    except ValueError as error:
        raise _values(error) from None
    store = app_state(request).store
    try:
        grant = await run_in_threadpool(
            lambda: store.grant(who, tables=tables, accounts=accounts, by=principal(request).user.name)
        )
    except ValueError as error:
        raise _values(error) from None
    return await _page(request, message=f"Granted ({grant.grant_id}) to {who}.")


async def revoke_grants(request: Request) -> Response:
    form = await _form(request)
    who = form.get("principal", "").strip()
    note(request).statement = f"REVOKE ALL FROM {who}"
    note(request).roles = (who,)
    store = app_state(request).store
    changed = await run_in_threadpool(lambda: store.revoke(who, by=principal(request).user.name))
    return await _page(request, message=f"Revoked {len(changed)} grant(s) of {who}.")


ROUTES = [
    Route("/admin", admin_page),
    Route("/admin/users", add_user, methods=["POST"]),
    Route("/admin/tokens", create_token, methods=["POST"]),
    Route("/admin/tokens/revoke", revoke_token, methods=["POST"]),
    Route("/admin/grants", add_grant, methods=["POST"]),
    Route("/admin/revoke", revoke_grants, methods=["POST"]),
]
