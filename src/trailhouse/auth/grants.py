"""Grants, pure: who may see which tables and views, and which AWS accounts' rows in them.

A grant gives a principal (a user, or `group:NAME`) some relations (tables or views; None: all)
and some AWS accounts (None: all). A user's access is the union of the grants to them and to their
groups, with two rules that keep the union from widening what any one grant gave:

- the account set is gathered only from grants that cover an account-scoped relation, so an
  all-accounts grant on `ledger` does not open every account of `cloudtrail`;
- a relation without an account column (ledger, digests, quarantine: they hold other accounts'
  bytes) is visible only through a grant on all accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Relations whose rows carry no AWS account (engine.ACCOUNT_COLUMN lists those that do).
UNSCOPED_TABLES = frozenset({"cloudtrail_digests", "ledger", "quarantine"})
# Audit views every signed-in user may query; each is filtered to what the caller administers.
AUDIT_VIEWS = frozenset(
    {
        "steward_audit_logs",
        "reporting_audit_logs",
        "daily_audit_logs",
        "weekly_audit_logs",
        "monthly_audit_logs",
    }
)
ADMIN_AUDIT_TABLE = "audit_logs"
GROUP_PREFIX = "group:"
_NAME = re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_RELATION = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Grant:
    grant_id: str
    principal: str  # "alice" or "group:ops"
    tables: frozenset[str] | None  # None: every table and view
    accounts: frozenset[str] | None  # None: every account


@dataclass(frozen=True)
class Access:
    """What one user may query: relation names and accounts (None: all)."""

    user: str
    is_admin: bool
    relations: frozenset[str] | None
    accounts: frozenset[str] | None
    administered: frozenset[str] | None  # relations with full access (steward audit view); None: all
    denied: frozenset[str] = frozenset()  # refused even when `relations` is None (all)

    def may_query(self, relation: str) -> bool:
        name = relation.lower()
        if name == ADMIN_AUDIT_TABLE:
            return self.is_admin
        if name in AUDIT_VIEWS:
            return True
        if name in self.denied:
            return False
        return self.relations is None or name in self.relations


def is_valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def check_principal(principal: str) -> str:
    """The principal, validated: `NAME` or `group:NAME`; raises ValueError with a next step."""
    bare = principal.removeprefix(GROUP_PREFIX)
    if not is_valid_name(bare):
        raise ValueError(
            f"Invalid user or group name '{principal}'\n"
            "Names are 1-64 lowercase letters, digits, '_', '.', '-', starting with a letter; "
            "groups are written group:NAME."
        )
    return principal


def parse_accounts(text: str) -> frozenset[str] | None:
    """`all` or a comma-separated list of 12-digit AWS account ids."""
    if text.strip().lower() in ("all", "*"):
        return None
    accounts = frozenset(a.strip() for a in text.split(",") if a.strip())
    bad = sorted(a for a in accounts if not _ACCOUNT.fullmatch(a))
    if bad or not accounts:
        raise ValueError(
            f"Invalid AWS account id '{bad[0] if bad else text}'\n"
            "Expected 12 digits, comma-separated (e.g. 111122223333,444455556666), or 'all'."
        )
    return accounts


def parse_tables(text: str | None) -> frozenset[str] | None:
    """None or `all`: every relation; else a comma-separated list of table or view names."""
    if text is None or text.strip().lower() in ("all", "*", ""):
        return None
    tables = frozenset(t.strip().lower() for t in text.split(",") if t.strip())
    bad = sorted(t for t in tables if not _RELATION.fullmatch(t))
    if bad:
        raise ValueError(f"Invalid table or view name '{bad[0]}'\nUse names as `SHOW TABLES` lists them.")
    return tables


def effective_access(user: str, groups: Iterable[str], is_admin: bool, grants: Iterable[Grant]) -> Access:
    """The union of the grants to `user` and to its groups (see the module docstring)."""
    if is_admin:
        return Access(user, True, None, None, None)
    principals = {user} | {GROUP_PREFIX + g for g in groups}
    mine = [g for g in grants if g.principal in principals]
    all_relations = any(g.tables is None for g in mine)
    relations: set[str] = set()
    administered: set[str] = set()
    accounts: set[str] | None = set()
    for grant in mine:
        covers_scoped = grant.tables is None or any(t not in UNSCOPED_TABLES for t in grant.tables)
        named = set(grant.tables or ())
        if grant.accounts is None:
            relations |= named
            administered |= named
            if covers_scoped:
                accounts = None
        else:
            relations |= named - UNSCOPED_TABLES
            if covers_scoped and accounts is not None:
                accounts |= grant.accounts
    full_all = any(g.accounts is None and g.tables is None for g in mine)
    if all_relations:
        return Access(
            user,
            False,
            None,
            None if accounts is None else frozenset(accounts),
            None if full_all else frozenset(administered),
            denied=frozenset() if full_all else UNSCOPED_TABLES - administered,
        )
    return Access(
        user,
        False,
        frozenset(relations),
        None if accounts is None else frozenset(accounts),
        frozenset(administered),
    )
