"""Users, groups, API tokens and grants, kept in the lake so that every server replica shares them.

Three append-only Delta tables under the lake root; the newest row of a key wins (tombstones
revoke): `_auth_users` (by name), `_auth_tokens` (by token id), `_auth_grants` (by grant id).
Only token hashes are stored. Reads are cached and refreshed when a table's version moves
(checked at most every `refresh_seconds`).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailhouse.auth import tokens
from trailhouse.auth.grants import Access, Grant, check_principal, effective_access, is_valid_name
from trailhouse.errors import AuthError, ConfigurationError, UsageError
from trailhouse.lake import Lake, is_remote

USERS, TOKENS, GRANTS = "_auth_users", "_auth_tokens", "_auth_grants"
TS = pa.timestamp("us", tz="UTC")
SCHEMAS = {
    USERS: pa.schema(
        [
            ("name", pa.string()),
            ("is_admin", pa.bool_()),
            ("groups", pa.string()),
            ("disabled", pa.bool_()),
            ("updated_at", TS),
            ("updated_by", pa.string()),
        ]
    ),
    TOKENS: pa.schema(
        [
            ("token_id", pa.string()),
            ("token_hash", pa.string()),
            ("user", pa.string()),
            ("label", pa.string()),
            ("revoked", pa.bool_()),
            ("updated_at", TS),
            ("updated_by", pa.string()),
        ]
    ),
    GRANTS: pa.schema(
        [
            ("grant_id", pa.string()),
            ("principal", pa.string()),
            ("tables", pa.string()),
            ("accounts", pa.string()),
            ("revoked", pa.bool_()),
            ("updated_at", TS),
            ("updated_by", pa.string()),
        ]
    ),
}
KEYS = {USERS: "name", TOKENS: "token_id", GRANTS: "grant_id"}
SESSION_KEY_FILE = "_auth/session.key"


@dataclass(frozen=True)
class User:
    name: str
    is_admin: bool
    groups: tuple[str, ...]


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    user: str
    label: str
    created_at: datetime


@dataclass(frozen=True)
class NewToken:
    """A token as created: the secret is shown once and never stored."""

    info: TokenInfo
    secret: str


@dataclass(frozen=True)
class Snapshot:
    users: dict[str, User]
    tokens: dict[str, tuple[str, TokenInfo]]  # token hash -> (hash, info), live tokens only
    grants: tuple[Grant, ...]
    versions: tuple[int | None, ...]


class AuthStore:
    """Reads and writes the auth tables of one lake."""

    def __init__(self, lake: Lake, *, refresh_seconds: float = 2.0) -> None:
        self.lake = lake
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked < self.refresh_seconds:
                return self._snapshot
            versions = tuple(self.lake.version(t) for t in (USERS, TOKENS, GRANTS))
            if self._snapshot is None or versions != self._snapshot.versions:
                self._snapshot = self._load(versions)
            self._checked = now
            return self._snapshot

    def _latest(self, table: str) -> list[dict[str, object]]:
        data = self.lake.read(table)
        if data is None:
            return []
        rows: list[dict[str, Any]] = sorted(data.to_pylist(), key=lambda r: r["updated_at"])
        newest: dict[object, dict[str, object]] = {}
        for row in rows:
            newest[row[KEYS[table]]] = row
        return list(newest.values())

    def _load(self, versions: tuple[int | None, ...]) -> Snapshot:
        users = {
            str(r["name"]): User(str(r["name"]), bool(r["is_admin"]), tuple(json.loads(str(r["groups"]))))
            for r in self._latest(USERS)
            if not r["disabled"]
        }
        live_tokens = {}
        for r in self._latest(TOKENS):
            if r["revoked"] or r["user"] not in users:
                continue
            info = TokenInfo(str(r["token_id"]), str(r["user"]), str(r["label"] or ""), r["updated_at"])  # type: ignore[arg-type]
            live_tokens[str(r["token_hash"])] = (str(r["token_hash"]), info)
        grants = tuple(
            Grant(
                str(r["grant_id"]),
                str(r["principal"]),
                None if r["tables"] is None else frozenset(json.loads(str(r["tables"]))),
                None if r["accounts"] is None else frozenset(json.loads(str(r["accounts"]))),
            )
            for r in self._latest(GRANTS)
            if not r["revoked"]
        )
        return Snapshot(users, live_tokens, grants, versions)

    def authenticate(self, secret: str) -> tuple[User, TokenInfo]:
        """The user and token behind a bearer secret; AuthError when unknown or revoked."""
        if tokens.looks_like_token(secret):
            snap = self.snapshot()
            found = snap.tokens.get(tokens.hash_token(secret))
            if found is not None and tokens.matches(secret, found[0]):
                info = found[1]
                return snap.users[info.user], info
        raise AuthError("Invalid or revoked token\nCreate one with 'trailhouse token create USER --lake L'.")

    def token_is_live(self, token_id: str) -> bool:
        return any(info.token_id == token_id for _, info in self.snapshot().tokens.values())

    def user(self, name: str) -> User | None:
        return self.snapshot().users.get(name)

    def access(self, user: User) -> Access:
        snap = self.snapshot()
        return effective_access(user.name, user.groups, user.is_admin, snap.grants)

    def grants(self) -> tuple[Grant, ...]:
        return self.snapshot().grants

    def tokens_of(self, name: str) -> list[TokenInfo]:
        return sorted(
            (info for _, info in self.snapshot().tokens.values() if info.user == name),
            key=lambda i: i.created_at,
        )

    # -- writing ---------------------------------------------------------------------------

    def _append(self, table: str, row: dict[str, object]) -> None:
        row = {**row, "updated_at": datetime.now(UTC)}
        self.lake.append(table, pa.Table.from_pylist([row], schema=SCHEMAS[table]), metadata={"auth": table})
        with self._lock:
            self._snapshot = None

    def add_user(
        self, name: str, *, is_admin: bool = False, groups: tuple[str, ...] = (), by: str = "cli"
    ) -> NewToken:
        """Create a user and its first token (the secret is returned once)."""
        if not is_valid_name(name):
            check_principal(name)
        for group in groups:
            check_principal(group)
        if self.user(name) is not None:
            raise UsageError(
                f"User '{name}' already exists\nCreate another token with 'trailhouse token create {name}'."
            )
        self._append(
            USERS,
            {
                "name": name,
                "is_admin": is_admin,
                "groups": json.dumps(sorted(groups)),
                "disabled": False,
                "updated_by": by,
            },
        )
        return self.create_token(name, label="first token", by=by)

    def set_user(
        self,
        name: str,
        *,
        is_admin: bool | None = None,
        groups: tuple[str, ...] | None = None,
        disabled: bool = False,
        by: str = "cli",
    ) -> None:
        current = self._require_user(name)
        for group in groups or ():
            check_principal(group)
        self._append(
            USERS,
            {
                "name": name,
                "is_admin": current.is_admin if is_admin is None else is_admin,
                "groups": json.dumps(sorted(current.groups if groups is None else groups)),
                "disabled": disabled,
                "updated_by": by,
            },
        )

    def create_token(self, name: str, *, label: str = "", by: str = "cli") -> NewToken:
        self._require_user(name)
        secret = tokens.new_token()
        digest = tokens.hash_token(secret)
        info = TokenInfo(tokens.token_id(digest), name, label, datetime.now(UTC))
        self._append(
            TOKENS,
            {
                "token_id": info.token_id,
                "token_hash": digest,
                "user": name,
                "label": label,
                "revoked": False,
                "updated_by": by,
            },
        )
        return NewToken(info, secret)

    def revoke_token(self, token_id: str, *, by: str = "cli") -> TokenInfo:
        for digest, info in self.snapshot().tokens.values():
            if info.token_id == token_id:
                self._append(
                    TOKENS,
                    {
                        "token_id": token_id,
                        "token_hash": digest,
                        "user": info.user,
                        "label": info.label,
                        "revoked": True,
                        "updated_by": by,
                    },
                )
                return info
        raise UsageError(
            f"No live token with id '{token_id}'\nList them with 'trailhouse user list --lake L'."
        )

    def grant(
        self,
        principal: str,
        *,
        tables: frozenset[str] | None,
        accounts: frozenset[str] | None,
        by: str = "cli",
    ) -> Grant:
        check_principal(principal)
        if not principal.startswith("group:"):
            self._require_user(principal)
        grant = Grant(uuid.uuid4().hex[:12], principal, tables, accounts)
        self._write_grant(grant, revoked=False, by=by)
        return grant

    def revoke(
        self,
        principal: str,
        *,
        tables: frozenset[str] | None = None,
        accounts: frozenset[str] | None = None,
        by: str = "cli",
    ) -> list[Grant]:
        """Remove accounts and/or tables from the principal's grants (all of them when neither is given)."""
        changed = []
        for grant in self.grants():
            if grant.principal != principal:
                continue
            new_accounts, new_tables = grant.accounts, grant.tables
            if accounts is not None:
                if grant.accounts is None:
                    raise UsageError(
                        f"Grant '{grant.grant_id}' of '{principal}' covers all accounts\n"
                        f"Revoke it whole ('trailhouse revoke {principal}'), then grant the accounts to keep."
                    )
                new_accounts = grant.accounts - accounts
            if tables is not None:
                if grant.tables is None:
                    raise UsageError(
                        f"Grant '{grant.grant_id}' of '{principal}' covers all tables\n"
                        f"Revoke it whole ('trailhouse revoke {principal}'), then grant the tables to keep."
                    )
                new_tables = grant.tables - tables
            if (new_accounts, new_tables) == (grant.accounts, grant.tables) and (accounts or tables):
                continue
            gone = (
                (accounts is None and tables is None)
                or new_accounts == frozenset()
                or new_tables == frozenset()
            )
            updated = Grant(grant.grant_id, principal, new_tables, new_accounts)
            self._write_grant(updated, revoked=gone, by=by)
            changed.append(updated)
        return changed

    def _write_grant(self, grant: Grant, *, revoked: bool, by: str) -> None:
        self._append(
            GRANTS,
            {
                "grant_id": grant.grant_id,
                "principal": grant.principal,
                "tables": None if grant.tables is None else json.dumps(sorted(grant.tables)),
                "accounts": None if grant.accounts is None else json.dumps(sorted(grant.accounts)),
                "revoked": revoked,
                "updated_by": by,
            },
        )

    def _require_user(self, name: str) -> User:
        user = self.user(name)
        if user is None:
            raise UsageError(f"No user '{name}'\nCreate it with 'trailhouse user add {name} --lake L'.")
        return user


def session_secret(lake: Lake) -> bytes:
    """The key that signs session cookies: generated once, kept in the lake with mode 0600, never printed.

    A remote (s3://) lake cannot hold a local 0600 file: set TRAILHOUSE_SESSION_SECRET instead.
    """
    from_env = os.environ.get("TRAILHOUSE_SESSION_SECRET")
    if from_env:
        return from_env.encode()
    if is_remote(lake.root):
        raise ConfigurationError(
            f"No session secret for the remote lake '{lake.root}'\n"
            "Looked in: TRAILHOUSE_SESSION_SECRET (unset).\n"
            "Set it to a long random value shared by the replicas."
        )
    path = Path(lake.root) / SESSION_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()
