"""Grants are pure: the union of a user's grants never widens what any one grant gave."""

from __future__ import annotations

import pytest

from trailhouse.auth.grants import Grant, effective_access, parse_accounts, parse_tables

A, B = "111111111111", "222222222222"


def test_grants_admin_sees_everything() -> None:
    access = effective_access("root", (), True, [])
    assert access.relations is None and access.accounts is None
    assert access.may_query("audit_logs") and access.may_query("quarantine")


def test_grants_user_without_grant_sees_nothing() -> None:
    access = effective_access("bob", (), False, [Grant("g1", "alice", None, frozenset({A}))])
    assert access.relations == frozenset() and access.accounts == frozenset()
    assert not access.may_query("cloudtrail")
    assert not access.may_query("audit_logs")
    assert access.may_query("steward_audit_logs")


def test_grants_all_tables_on_some_accounts_hides_unscoped_tables() -> None:
    access = effective_access("alice", (), False, [Grant("g1", "alice", None, frozenset({A}))])
    assert access.accounts == frozenset({A})
    assert access.may_query("cloudtrail") and access.may_query("console_logins")
    assert not access.may_query("ledger") and not access.may_query("quarantine")


def test_grants_all_accounts_on_ledger_does_not_open_cloudtrail_accounts() -> None:
    grants = [
        Grant("g1", "alice", frozenset({"cloudtrail"}), frozenset({A})),
        Grant("g2", "alice", frozenset({"ledger"}), None),
    ]
    access = effective_access("alice", (), False, grants)
    assert access.accounts == frozenset({A})
    assert access.may_query("ledger") and access.may_query("cloudtrail")
    assert not access.may_query("quarantine")


def test_grants_group_grants_apply_to_members() -> None:
    grants = [Grant("g1", "group:ops", frozenset({"cloudtrail"}), frozenset({B}))]
    member = effective_access("carol", ("ops",), False, grants)
    outsider = effective_access("dave", (), False, grants)
    assert member.accounts == frozenset({B}) and member.may_query("cloudtrail")
    assert not outsider.may_query("cloudtrail")


def test_grants_parse_accounts_rejects_bad_ids_verbatim() -> None:
    assert parse_accounts("all") is None
    assert parse_accounts(f"{A}, {B}") == frozenset({A, B})
    with pytest.raises(ValueError) as info:
        parse_accounts("1234")
    assert str(info.value) == (
        "Invalid AWS account id '1234'\n"
        "Expected 12 digits, comma-separated (e.g. 111122223333,444455556666), or 'all'."
    )


def test_grants_parse_tables() -> None:
    assert parse_tables(None) is None
    assert parse_tables("CloudTrail,console_logins") == frozenset({"cloudtrail", "console_logins"})
    with pytest.raises(ValueError):
        parse_tables("x;drop")
