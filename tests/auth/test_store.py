"""Users, tokens and grants live in the lake; only hashes of tokens are stored."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from trailhouse.auth.store import AuthStore, session_secret
from trailhouse.errors import AuthError, UsageError
from trailhouse.lake import Lake

A = "111111111111"


@pytest.fixture
def store(tmp_path: Path) -> AuthStore:
    return AuthStore(Lake(tmp_path / "lake"), refresh_seconds=0)


def test_store_first_token_authenticates_and_is_stored_hashed(store: AuthStore, tmp_path: Path) -> None:
    created = store.add_user("alice", is_admin=True)
    user, info = store.authenticate(created.secret)
    assert user.name == "alice" and user.is_admin and info.token_id == created.info.token_id
    everything = b"".join(p.read_bytes() for p in (tmp_path / "lake").rglob("*") if p.is_file())
    assert created.secret.encode() not in everything


def test_store_revoked_token_is_refused(store: AuthStore) -> None:
    created = store.add_user("bob")
    store.revoke_token(created.info.token_id)
    with pytest.raises(AuthError):
        store.authenticate(created.secret)


def test_store_unknown_token_is_refused(store: AuthStore) -> None:
    store.add_user("bob")
    with pytest.raises(AuthError):
        store.authenticate("th_" + "x" * 43)
    with pytest.raises(AuthError):
        store.authenticate("")


def test_store_duplicate_user_message(store: AuthStore) -> None:
    store.add_user("bob")
    with pytest.raises(UsageError) as info:
        store.add_user("bob")
    assert str(info.value) == (
        "User 'bob' already exists\nCreate another token with 'trailhouse token create bob'."
    )


def test_store_grants_are_shared_between_store_instances(store: AuthStore) -> None:
    store.add_user("bob")
    store.grant("bob", tables=frozenset({"cloudtrail"}), accounts=frozenset({A}))
    other = AuthStore(store.lake, refresh_seconds=0)
    bob = other.user("bob")
    assert bob is not None
    assert other.access(bob).accounts == frozenset({A})
    store.revoke("bob")
    assert other.access(bob).may_query("cloudtrail") is False


def test_store_revoke_some_accounts_keeps_the_rest(store: AuthStore) -> None:
    store.add_user("bob")
    store.grant("bob", tables=None, accounts=frozenset({A, "222222222222"}))
    store.revoke("bob", accounts=frozenset({A}))
    bob = store.user("bob")
    assert bob is not None
    assert store.access(bob).accounts == frozenset({"222222222222"})


def test_store_session_secret_is_private_and_stable(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    first = session_secret(lake)
    assert len(first) >= 32 and session_secret(lake) == first
    path = tmp_path / "lake" / "_auth" / "session.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
