"""`trailhouse user/token/grant/revoke`: tokens printed once, grants kept in the lake, audited."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from trailhouse.auth.audit import read_audit
from trailhouse.auth.store import AuthStore
from trailhouse.cli.main import cli
from trailhouse.lake import Lake


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_user_add_prints_a_working_token_once(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    code, out, _ = run("user", "add", "root", "--admin", "--lake", lake)
    assert code == 0 and out.startswith("Created administrator 'root'.\n")
    secret = re.search(r"th_[A-Za-z0-9_\-]{43}", out)
    assert secret is not None
    user, _info = AuthStore(Lake(lake)).authenticate(secret.group(0))
    assert user.name == "root" and user.is_admin
    audit_text = "".join(p.read_text() for p in (tmp_path / "lake" / "_audit").rglob("*.jsonl"))
    assert "ADD USER root ADMIN" in audit_text and secret.group(0) not in audit_text


def test_cli_grant_and_revoke(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    run("user", "add", "bob", "--lake", lake)
    code, out, _ = run(
        "grant", "bob", "--accounts", "111111111111,222222222222", "--tables", "cloudtrail", "--lake", lake
    )
    assert code == 0 and "'bob' sees cloudtrail for accounts 111111111111,222222222222" in out
    code, _, _ = run("revoke", "bob", "--accounts", "111111111111", "--lake", lake)
    store = AuthStore(Lake(lake))
    bob = store.user("bob")
    assert bob is not None and store.access(bob).accounts == frozenset({"222222222222"})
    assert any(r["statement_type"] == "ADMIN" for r in read_audit(Lake(lake)))


def test_cli_grant_bad_account_is_usage_error(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    run("user", "add", "bob", "--lake", lake)
    code, _, err = run("grant", "bob", "--accounts", "12", "--lake", lake)
    assert code == 2
    assert err == (
        "Error: Invalid AWS account id '12'\n"
        "Expected 12 digits, comma-separated (e.g. 111122223333,444455556666), or 'all'.\n"
    )


def test_cli_token_create_and_revoke(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    run("user", "add", "bob", "--lake", lake)
    code, out, _ = run("token", "create", "bob", "--lake", lake)
    token_id = re.search(r"Token ([0-9a-f]{12}) ", out)
    secret = re.search(r"th_[A-Za-z0-9_\-]{43}", out)
    assert code == 0 and token_id and secret
    code, out, _ = run("token", "revoke", token_id.group(1), "--lake", lake)
    assert code == 0 and out == f"Revoked token {token_id.group(1)} of 'bob'.\n"
    assert len(AuthStore(Lake(lake)).tokens_of("bob")) == 1


def test_cli_demo_sign_in_hint_has_a_working_token_and_a_command_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trailhouse.cli.users import demo_sign_in

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # right after `make demo`: .venv/bin is not on PATH
    lake = str(tmp_path / "lake")
    hint = demo_sign_in(lake)
    serve = re.match(r"Dashboard:\n  (\S+) serve --lake (\S+)\n", hint)
    assert serve is not None and serve.group(2) == lake
    version = subprocess.run([serve.group(1), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("trailhouse")
    secret = re.search(r"th_[A-Za-z0-9_\-]{43}", hint)
    assert secret is not None
    user, _ = AuthStore(Lake(lake)).authenticate(secret.group(0))
    assert user.name == "admin" and user.is_admin
    again = re.search(r"th_[A-Za-z0-9_\-]{43}", demo_sign_in(lake))
    assert again is not None and again.group(0) != secret.group(0)


def test_cli_user_set_groups_gives_group_grants(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    run("user", "add", "carol", "--lake", lake)
    run("grant", "group:ops", "--accounts", "111111111111", "--lake", lake)
    code, out, _ = run("user", "set", "carol", "--group", "ops", "--lake", lake)
    assert code == 0 and out == "Updated 'carol': groups=ops.\n"
    store = AuthStore(Lake(lake))
    carol = store.user("carol")
    assert carol is not None and store.access(carol).accounts == frozenset({"111111111111"})
    code, _, _ = run("user", "set", "carol", "--disable", "--lake", lake)
    assert code == 0 and AuthStore(Lake(lake)).user("carol") is None
