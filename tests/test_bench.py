"""The report benchmark runs end to end: a tiny bucket, every report beside its raw-JSON baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trailhouse.query.reports import list_reports

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_reports_prints_every_report_beside_its_baseline(tmp_path: Path) -> None:
    tiny = ["--events", "3000", "--days", "1", "--accounts", "1", "--regions", "1", "--repeat", "1"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_reports.py"), *tiny, "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    for spec in list_reports():
        assert lines[spec.name].rstrip().endswith("x"), lines.get(spec.name)  # lake time, raw time, ratio
