"""`trailhouse user`, `token`, `grant` and `revoke`: users, API tokens and grants kept in the lake."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from trailhouse.auth.audit import AuditEvent, AuditWriter
from trailhouse.auth.grants import parse_accounts, parse_tables
from trailhouse.auth.store import AuthStore, NewToken
from trailhouse.cli.main import command_name, lake_option
from trailhouse.errors import UsageError
from trailhouse.lake import Lake

SERVE_URL = "http://127.0.0.1:8080/"


def _store(lake: str) -> AuthStore:
    return AuthStore(Lake(lake), refresh_seconds=0)


def _audit(store: AuthStore, statement: str, role: str) -> None:
    """Changes to users, tokens and grants are audited like requests (never with a secret)."""
    now = datetime.now(UTC)
    AuditWriter(store.lake, "cli").write(
        AuditEvent(now, now, "cli", "ok", "ADMIN", statement, client_application="trailhouse-cli",
                   client_network_address="local", roles=(role,))
    )  # fmt: skip


def _print_token(created: NewToken, lake: str) -> None:
    click.echo(
        f"Token {created.info.token_id} for '{created.info.user}' (shown once, stored only as a hash):"
    )
    click.echo(f"  {created.secret}")
    click.echo(
        f"Sign in at {SERVE_URL} with it (after 'trailhouse serve --lake {lake}'), "
        "or send 'Authorization: Bearer <token>'."
    )


def _parse(value: str | None, parser: object) -> frozenset[str] | None:
    try:
        return parser(value)  # type: ignore[operator,no-any-return]
    except ValueError as error:
        raise UsageError(str(error)) from None


@click.group()
def user() -> None:
    """Create and list users (the first administrator: `trailhouse user add NAME --admin`)."""


@user.command("add")
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Administrator: sees every account, manages grants.")
@click.option("--group", "groups", multiple=True, help="A group the user belongs to (repeatable).")
@lake_option
def user_add(name: str, is_admin: bool, groups: tuple[str, ...], lake: str) -> None:
    """Create user NAME and print its first API token."""
    store = _store(lake)
    try:
        created = store.add_user(name, is_admin=is_admin, groups=groups)
    except ValueError as error:
        raise UsageError(str(error)) from None
    _audit(store, f"ADD USER {name}" + (" ADMIN" if is_admin else ""), name)
    kind = "administrator" if is_admin else "user"
    click.echo(f"Created {kind} '{name}'.")
    if not is_admin:
        click.echo(
            f"It sees nothing until granted: 'trailhouse grant {name} --accounts ID[,ID...] --lake {lake}'."
        )
    _print_token(created, lake)


@user.command("set")
@click.argument("name")
@click.option("--admin/--no-admin", "is_admin", default=None, help="Make or unmake an administrator.")
@click.option("--group", "groups", multiple=True, help="The user's groups, replacing the current ones.")
@click.option("--no-groups", is_flag=True, help="Remove the user from every group.")
@click.option("--disable", is_flag=True, help="Disable the user (its tokens and sessions stop working).")
@lake_option
def user_set(
    name: str, is_admin: bool | None, groups: tuple[str, ...], no_groups: bool, disable: bool, lake: str
) -> None:
    """Change user NAME: administrator or not, groups, or disable it."""
    store = _store(lake)
    new_groups = () if no_groups else (groups or None)
    try:
        store.set_user(name, is_admin=is_admin, groups=new_groups, disabled=disable)
    except ValueError as error:
        raise UsageError(str(error)) from None
    changes = [
        f"admin={is_admin}" if is_admin is not None else "",
        f"groups={','.join(new_groups)}" if new_groups is not None else "",
        "disabled" if disable else "",
    ]
    summary = " ".join(c for c in changes if c) or "nothing"
    _audit(store, f"SET USER {name} {summary}", name)
    click.echo(f"Updated '{name}': {summary}.")


@user.command("list")
@lake_option
def user_list(lake: str) -> None:
    """List users, their groups, token ids and grants."""
    store = _store(lake)
    snap = store.snapshot()
    if not snap.users:
        click.echo(
            f"No users. Create the first administrator: 'trailhouse user add NAME --admin --lake {lake}'."
        )
        return
    for name in sorted(snap.users):
        u = snap.users[name]
        tokens = ", ".join(t.token_id for t in store.tokens_of(name)) or "none"
        groups = ", ".join(u.groups) or "-"
        click.echo(f"{name}\t{'admin' if u.is_admin else 'user'}\tgroups: {groups}\ttokens: {tokens}")
    for grant in snap.grants:
        tables = ",".join(sorted(grant.tables)) if grant.tables is not None else "all"
        accounts = ",".join(sorted(grant.accounts)) if grant.accounts is not None else "all"
        click.echo(f"grant {grant.grant_id}\t{grant.principal}\ttables: {tables}\taccounts: {accounts}")


@click.group()
def token() -> None:
    """Create and revoke API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="", help="A note to tell tokens apart (e.g. 'grafana').")
@lake_option
def token_create(name: str, label: str, lake: str) -> None:
    """Create a new API token for user NAME (printed once)."""
    store = _store(lake)
    created = store.create_token(name, label=label)
    _audit(store, f"CREATE TOKEN {created.info.token_id} FOR {name}", name)
    _print_token(created, lake)


@token.command("revoke")
@click.argument("token_id")
@lake_option
def token_revoke(token_id: str, lake: str) -> None:
    """Revoke the token with id TOKEN_ID (ids: `trailhouse user list`); its sessions end too."""
    store = _store(lake)
    info = store.revoke_token(token_id)
    _audit(store, f"REVOKE TOKEN {token_id}", info.user)
    click.echo(f"Revoked token {token_id} of '{info.user}'.")


@click.command()
@click.argument("principal")
@click.option("--accounts", required=True, help="Comma-separated AWS account ids, or 'all'.")
@click.option("--tables", default=None, help="Comma-separated tables or views (default: all).")
@lake_option
def grant(principal: str, accounts: str, tables: str | None, lake: str) -> None:
    """Let PRINCIPAL (a user, or group:NAME) see TABLES, filtered to ACCOUNTS."""
    store = _store(lake)
    parsed_accounts = _parse(accounts, parse_accounts)
    parsed_tables = _parse(tables, parse_tables)
    try:
        made = store.grant(principal, tables=parsed_tables, accounts=parsed_accounts)
    except ValueError as error:
        raise UsageError(str(error)) from None
    _audit(store, f"GRANT {tables or 'all'} ON ACCOUNTS {accounts} TO {principal}", principal)
    click.echo(
        f"Granted {made.grant_id}: '{principal}' sees {tables or 'all tables'} for accounts {accounts}."
    )


@click.command()
@click.argument("principal")
@click.option("--accounts", default=None, help="Only take away these accounts (default: every grant).")
@click.option("--tables", default=None, help="Only take away these tables or views.")
@lake_option
def revoke(principal: str, accounts: str | None, tables: str | None, lake: str) -> None:
    """Take grants away from PRINCIPAL: all of them, or some accounts or tables."""
    store = _store(lake)
    changed = store.revoke(
        principal,
        accounts=_parse(accounts, parse_accounts) if accounts else None,
        tables=_parse(tables, parse_tables) if tables else None,
    )
    _audit(store, f"REVOKE {tables or 'all'} ON ACCOUNTS {accounts or 'all'} FROM {principal}", principal)
    click.echo(f"Changed {len(changed)} grant(s) of '{principal}'.")


def demo_sign_in(lake: str, url: str = SERVE_URL) -> str:
    """For `trailhouse demo`: a fresh token for the administrator 'admin' (created on first run),
    and the lines telling a newcomer how to sign in and where the incident shows."""
    store = _store(lake)
    if store.user("admin") is None:
        created = store.add_user("admin", is_admin=True)
        _audit(store, "ADD USER admin ADMIN", "admin")
    else:
        created = store.create_token("admin", label="demo")
        _audit(store, f"CREATE TOKEN {created.info.token_id} FOR admin", "admin")
    return "\n".join(
        [
            "Dashboard:",
            f"  {command_name()} serve --lake {lake}",
            f"  then open {url} and sign in with this token (shown once, stored only as a hash):",
            f"  {created.secret}",
            f"  {url}dashboards/console-logins shows 'mallory' signing in from Germany without MFA;",
            "  Security Group Modifications shows the port 22 rule opened to 0.0.0.0/0 minutes later.",
        ]
    )
