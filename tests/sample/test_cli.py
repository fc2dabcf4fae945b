"""`trailhouse sample` on the command line: summary, quiet, refusals."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from trailhouse.cli.main import cli
from trailhouse.sample import incident


def test_cli_sample_prints_a_summary(tmp_path: Path) -> None:
    target = tmp_path / "logs"
    result = CliRunner().invoke(
        cli,
        [
            "sample",
            str(target),
            "--events",
            "800",
            "--days",
            "1",
            "--no-digests",
            "--start-date",
            "2026-03-05",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Wrote 800 events in ")
    assert f"to '{target}'" in lines[0]
    assert "1 day from 2026-03-05, account trails" in lines[1]
    assert (
        f"'{incident.USER}' signs in without MFA from {incident.IP} at 2026-03-05 02:13:07Z" in result.stdout
    )
    assert lines[-1] == f"Next: trailhouse ingest {target}"
    assert any(p.name.endswith(".json.gz") for p in target.rglob("*"))


def test_cli_sample_quiet_prints_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sample", str(tmp_path / "q"), "--events", "50", "--no-digests", "--quiet"]
    )
    assert result.exit_code == 0
    assert result.stdout == ""


def test_cli_sample_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    result = CliRunner().invoke(cli, ["sample", str(tmp_path), "--events", "50", "--no-digests"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Folder '{tmp_path}' is not empty\n"
        "Pass --force to replace the sample in it (removes AWSLogs/ and public-keys.json), "
        "or choose a new folder.\n"
    )


def test_cli_sample_rejects_overlap_without_org(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sample", str(tmp_path / "o"), "--overlap"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --overlap needs an organisation trail")
    assert result.stderr.endswith("Drop --overlap, or drop --no-org.\n")


def test_cli_sample_rejects_out_of_range_values(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sample", str(tmp_path / "r"), "--regions", "99"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --regions '99' is out of range (expected 1 to 12)\nPass a value between 1 and 12.\n"
    )


def test_cli_sample_rejects_too_many_windows(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sample", str(tmp_path / "big"), "--accounts", "100", "--regions", "12", "--days", "365"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --accounts x --regions x --days = 438,000 is too large (at most 50,000)\n"
        "Use fewer accounts, regions or days.\n"
    )
