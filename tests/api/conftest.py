"""Fixtures: a two-account lake with an admin, a user granted account A only, and a user with no grant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.trail_fixtures import ACCOUNT_A, build_lake
from trailhouse.auth.store import AuthStore
from trailhouse.lake import Lake


@dataclass(frozen=True)
class Tokens:
    admin: str
    alice: str  # granted account A only
    nobody: str  # no grant


@pytest.fixture(scope="session")
def lake_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    build_lake(root)
    return root


@pytest.fixture
def lake(lake_path: Path, tmp_path: Path) -> Iterator[Lake]:
    """A fresh copy of the session lake (auth and audit state per test)."""
    import shutil

    root = tmp_path / "lake"
    shutil.copytree(lake_path, root)
    yield Lake(root)


@pytest.fixture
def tokens(lake: Lake) -> Tokens:
    store = AuthStore(lake, refresh_seconds=0)
    admin = store.add_user("admin", is_admin=True).secret
    alice = store.add_user("alice").secret
    store.grant("alice", tables=None, accounts=frozenset({ACCOUNT_A}))
    nobody = store.add_user("nobody").secret
    return Tokens(admin, alice, nobody)
