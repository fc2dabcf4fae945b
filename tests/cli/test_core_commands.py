"""The core commands as a user runs them: ingest, query, export, status, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import event, log_key, strip_nulls, write_log
from trailhouse.cli.main import cli


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    records = [event(eventName=name, eventTime=f"2026-11-01T10:0{i}:00Z") for i, name in enumerate("ABC")]
    write_log(tmp_path / "bucket", log_key(), records)
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "bucket"), "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 0, result.output
    assert "objects seen 1 = ingested 1 + skipped 0 + quarantined 0 + already in the lake 0" in result.output
    assert "records read 3 = rows written 3 + duplicates dropped 0 + records quarantined 0" in result.output
    return tmp_path / "lake"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_query_jsonl_prints_one_object_per_row_and_nothing_else(lake: Path) -> None:
    code, out, _ = run(
        "query", "SELECT eventName FROM cloudtrail ORDER BY 1", "--lake", str(lake), "--format", "jsonl"
    )
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [{"eventName": n} for n in "ABC"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_query_formats_show_the_values(lake: Path, fmt: str) -> None:
    code, out, _ = run(
        "query",
        "SELECT eventName, eventTime FROM cloudtrail ORDER BY 1",
        "--lake",
        str(lake),
        "--format",
        fmt,
    )
    assert code == 0
    assert "2026-11-01T10:00:00Z" in out and "C" in out


def test_cli_query_bad_sql_says_where(lake: Path) -> None:
    code, _, err = run("query", "SELEC eventName FROM cloudtrail", "--lake", str(lake))
    assert code == 1
    assert err.splitlines()[0] == 'Error: Query failed: Parser Error: syntax error at or near "SELEC"'
    assert "LINE 1: SELEC eventName FROM cloudtrail" in err


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM cloudtrail) TO '{out}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "ATTACH '{out}' AS other",
        "SET threads = 1",
    ],
)
def test_cli_query_reads_only_the_lake(lake: Path, tmp_path: Path, sql: str) -> None:
    out = tmp_path / "written.db"
    code, stdout, err = run("query", sql.format(out=out), "--lake", str(lake))
    assert (code, stdout) == (1, "")
    assert err.startswith("Error: Query failed:") and ("disabled by configuration" in err or "locked" in err)
    assert not out.exists()


def test_cli_query_without_a_lake_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = run("query", "SELECT 1", "--lake", str(tmp_path / "nowhere"))
    assert code == 1
    assert err == (
        f"Error: No Delta table at '{tmp_path / 'nowhere' / 'cloudtrail'}' (no _delta_log folder)\n"
        f"Run 'trailhouse ingest ./logs --lake {tmp_path / 'nowhere'}' to create one, or pass --lake.\n"
    )


def test_cli_usage_errors_exit_2(lake: Path) -> None:
    code, _, err = run("query", "SELECT 1", "--lake", str(lake), "--format", "xml")
    assert code == 2 and "Invalid value for '--format'" in err
    code, _, err = run("ingest", str(lake), "--follow", "--lake", str(lake))
    assert code == 2 and "--follow applies to sqs:// sources only" in err
    code, _, err = run("ingest", str(lake), "--compact-every", "1h", "--lake", str(lake))
    assert code == 2 and "--compact-every applies with --follow only" in err
    code, _, err = run("ingest", "sqs://queue", "--follow", "--compact-every", "soon", "--lake", str(lake))
    assert code == 2 and "Invalid value 'soon' for --compact-every" in err


def test_cli_export_gives_back_the_original_records(lake: Path, tmp_path: Path) -> None:
    code, out, _ = run("export", "--lake", str(lake), "--where", "eventName <> 'B'")
    assert code == 0
    exported = sorted((json.loads(line) for line in out.splitlines()), key=lambda r: r["eventName"])
    assert [r["eventName"] for r in exported] == ["A", "C"]
    assert exported[0]["requestParameters"] == {"maxResults": 5}
    assert exported[0] == strip_nulls(exported[0])


def test_cli_status_reconciles(lake: Path) -> None:
    code, out, _ = run("status", "--lake", str(lake))
    assert code == 0
    assert "objects 1 = ingested 1" in out
    assert "records 3 = rows written 3 + duplicates dropped 0 + records quarantined 0" in out
    assert "DOES NOT RECONCILE" not in out
    code, out, _ = run("status", "--lake", str(lake), "--json")
    assert json.loads(out)["reconciles"] is True


def test_cli_status_names_files_awaiting_compaction(lake: Path) -> None:
    _, out, _ = run("status", "--lake", str(lake))
    assert "(1 not compacted: run 'trailhouse maintain compact')" in out
    assert run("maintain", "compact", "--lake", str(lake))[0] == 0
    _, out, _ = run("status", "--lake", str(lake))
    assert "not compacted" not in out
    _, out, _ = run("status", "--lake", str(lake), "--json")
    assert [t["uncompacted_files"] for t in json.loads(out)["tables"] if t["name"] == "cloudtrail"] == [0]


def test_cli_ingest_of_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("ingest", str(tmp_path / "nope"), "--lake", str(tmp_path / "lake"))
    assert code == 1
    assert err.startswith(f"Error: No folder at '{tmp_path / 'nope'}'")


def test_cli_help_lists_every_documented_command() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("sample", "ingest", "query", "export", "status", "report", "validate", "demo"):
        assert f"  {command}" in out


def test_the_command_runs_arrow_on_the_allocator_that_gives_memory_back() -> None:
    # Arrow's C++ pool (the Parquet writer's buffers) is chosen when pyarrow loads: the command
    # must set it before anything imports pyarrow (parser processes inherit the setting).
    probe = (
        "import os; os.environ.pop('ARROW_DEFAULT_MEMORY_POOL', None); import trailhouse.cli.main; "
        "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "system"
