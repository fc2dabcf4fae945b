"""`trailhouse maintain`: dry runs by default, --apply to act, messages with the next step."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.query.lakes import build_lake, record
from trailhouse.cli.main import cli


def _lake(tmp_path: Path) -> str:
    for hour in (1, 2):
        build_lake(tmp_path, [record(eventTime=f"2020-01-0{d}T0{hour}:00:00Z") for d in (1, 2)])
    return str(tmp_path)


def test_maintain_retain_is_a_dry_run_until_applied(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    dry = CliRunner().invoke(cli, ["maintain", "retain", "--days", "30", "--lake", lake])
    assert dry.exit_code == 0
    assert dry.output.splitlines()[0] == "would remove cloudtrail event_date=2020-01-01 (2 rows, 2 files)"
    assert "Run again with --apply to delete them." in dry.output
    done = CliRunner().invoke(cli, ["maintain", "retain", "--days", "30", "--lake", lake, "--apply"])
    assert done.output.startswith("removed cloudtrail event_date=2020-01-01")
    assert "recorded in the ledger" in done.output
    again = CliRunner().invoke(cli, ["maintain", "retain", "--days", "30", "--lake", lake])
    assert again.output.startswith("Nothing older than 30 days")


def test_maintain_compact_then_vacuum(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    compact = CliRunner().invoke(cli, ["maintain", "compact", "--lake", lake])
    assert compact.output.startswith("cloudtrail: 2 partitions rewritten, 4 files -> 2 files")
    dry = CliRunner().invoke(cli, ["maintain", "vacuum", "--retention-hours", "0", "--lake", lake])
    assert dry.output.splitlines()[-1] == "Dry run: 4 files. Run again with --apply to delete them."
    done = CliRunner().invoke(
        cli, ["maintain", "vacuum", "--retention-hours", "0", "--apply", "--lake", lake]
    )
    assert done.output.splitlines()[-1] == "Deleted 4 files."


def test_maintain_without_a_lake_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["maintain", "compact", "--lake", str(tmp_path / "none")])
    assert result.exit_code == 1 and "trailhouse ingest" in result.output
