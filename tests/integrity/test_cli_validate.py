"""`trailhouse validate` as a user runs it: summary, messages, exit codes (0 valid, 1 tampered, 2 usage)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
from click.testing import CliRunner

from tests.integrity.conftest import Bucket
from trailhouse.cli.main import cli
from trailhouse.model.schema import LEDGER_SCHEMA


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_validate_prints_a_summary_and_exits_0_for_a_valid_chain(bucket: Bucket, tmp_path: Path) -> None:
    code, out, err = invoke(
        "validate", str(bucket.root), "--public-keys", str(bucket.keys_file), "--lake", str(tmp_path / "lake")
    )
    assert code == 0, err
    assert "5/5 digest files valid" in out
    assert "10/10 log files valid" in out
    assert "Signatures: 5 from the sidecar .sig" in out
    assert err == ""


def test_cli_validate_names_a_changed_log_and_exits_1(bucket: Bucket, tmp_path: Path) -> None:
    path = bucket.logs()[0]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()) + b" "))
    code, out, err = invoke(
        "validate", str(bucket.root), "--public-keys", str(bucket.keys_file), "--lake", str(tmp_path / "l")
    )
    assert code == 1
    assert f"Log file\t{path}\tINVALID: hash value doesn't match (SHA-256 of the uncompressed file is" in err
    assert "9/10 log files valid, 1/10 log files INVALID" in out


def test_cli_validate_jsonl_prints_one_object_per_file(bucket: Bucket, tmp_path: Path) -> None:
    code, out, _err = invoke(
        "validate",
        str(bucket.root),
        "--public-keys",
        str(bucket.keys_file),
        "--format",
        "jsonl",
        "--lake",
        str(tmp_path / "l"),
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 15
    assert {row["status"] for row in rows} == {"valid"}


def test_cli_validate_strict_fails_on_unverifiable_digests(bucket: Bucket, tmp_path: Path) -> None:
    Path(f"{bucket.digests[-1]}.sig").unlink()
    args = (
        "validate",
        str(bucket.root),
        "--public-keys",
        str(bucket.keys_file),
        "--lake",
        str(tmp_path / "l"),
    )
    code, out, _err = invoke(*args)
    assert code == 0 and "1/5 digest files UNVERIFIED" in out
    assert invoke(*args, "--strict")[0] == 1


def test_cli_validate_without_keys_says_where_it_looked(bucket: Bucket, tmp_path: Path) -> None:
    code, _out, err = invoke("validate", str(bucket.root), "--offline", "--lake", str(tmp_path / "l"))
    assert code == 1
    assert err.startswith(
        "Error: No public keys to check the digests' signatures with (looked in: nowhere)\n"
    )
    assert "Pass --public-keys FILE" in err


def test_cli_validate_usage_errors_exit_2(bucket: Bucket, tmp_path: Path) -> None:
    code, _out, err = invoke("validate", str(bucket.root), "--start", "2026-07-30", "--end", "2026-07-29")
    assert code == 2
    assert "--start '2026-07-30T00:00:00Z' is after --end '2026-07-29T00:00:00Z'" in err
    code, _out, err = invoke("validate", str(bucket.root), "--start", "yesterday")
    assert code == 2 and "'yesterday' is not a UTC time" in err


def test_cli_validate_missing_folder_is_an_error(tmp_path: Path) -> None:
    code, _out, err = invoke("validate", str(tmp_path / "nope"), "--lake", str(tmp_path / "l"))
    assert code == 1
    assert f"Source folder '{tmp_path / 'nope'}' does not exist" in err


def test_cli_validate_records_outcomes_when_the_lake_exists(bucket: Bucket, tmp_path: Path) -> None:
    from trailhouse.integrity.records import latest_validations
    from trailhouse.lake import Lake

    lake = Lake(tmp_path / "lake")
    lake.append("ledger", pa.Table.from_pylist([{"source_object": "x"}], schema=LEDGER_SCHEMA))
    code, out, _err = invoke(
        "validate", str(bucket.root), "--public-keys", str(bucket.keys_file), "--lake", lake.root
    )
    assert code == 0 and "10/10 log files valid" in out
    latest = latest_validations(lake)
    assert len(latest) == 15 and {status for status, _detail in latest.values()} == {"valid"}
    code, _out, _err = invoke("validate", str(bucket.root), "--lake", lake.root, "--offline")
    assert code == 0  # the keys were cached in the lake by the first run
