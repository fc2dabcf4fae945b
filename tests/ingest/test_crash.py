"""SIGKILL a real `trailhouse ingest` at several moments, re-run, and compare with one clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import event, log_key, write_log
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine

TRAILHOUSE = str(Path(sys.executable).parent / "trailhouse")
pytestmark = pytest.mark.slow


def _ingest(bucket: Path, lake: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRAILHOUSE_BATCH_MB": "1", "TRAILHOUSE_WORKERS": "2"}
    return subprocess.Popen([TRAILHOUSE, "ingest", str(bucket), "--lake", str(lake), "-q"], env=env)


def _state(lake: Path) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, int]]]:
    engine = Engine(Lake(lake))
    events = engine.query("SELECT * EXCLUDE (source_object) FROM cloudtrail").to_pylist()
    canonical = sorted(json.dumps(e, sort_keys=True, default=str) for e in events)
    ledger = engine.query("SELECT source_object, status FROM ledger ORDER BY ALL").to_pylist()
    quarantine = engine.query("SELECT source_object, record_index FROM quarantine ORDER BY ALL").to_pylist()
    return (
        canonical,
        [(r["source_object"], r["status"]) for r in ledger],
        [(r["source_object"], r["record_index"]) for r in quarantine],
    )


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "bucket"
    subprocess.run(
        [
            TRAILHOUSE,
            "sample",
            str(root),
            "--events",
            "60000",
            "--accounts",
            "3",
            "--days",
            "2",
            "--org",
            "--overlap",
            "--no-digests",
            "--quiet",
        ],
        check=True,
    )
    # a few bad inputs, so the quarantine path is crashed through too
    for minute in range(3):
        write_log(root, log_key(stamp=f"20261101T00{minute:02d}Z"), [event(), "not a record"])
    (root / "broken.json.gz").write_bytes(b"\x1f\x8b broken")
    return root


def test_crash_sigkill_at_any_moment_then_rerun_gives_the_uninterrupted_table(
    bucket: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    assert _ingest(bucket, reference).wait() == 0
    expected = _state(reference)
    assert expected[0] and expected[2]

    crashed = tmp_path / "crashed"
    kills = 0
    for delay in (1.5, 0.4, 2.5, 1.0, 3.5, 0.7, 2.0):
        process = _ingest(bucket, crashed)
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 3, "ingest finished before it could be killed: make the bucket bigger"
    assert _ingest(bucket, crashed).wait() == 0
    got = _state(crashed)
    for name, want, have in zip(("events", "ledger", "quarantine"), expected, got, strict=True):
        missing, extra = Counter(want) - Counter(have), Counter(have) - Counter(want)
        assert not missing and not extra, (
            f"{name}: {len(missing)} missing, {len(extra)} extra, e.g. {list(missing or extra)[:2]}"
        )
    again = subprocess.run(
        [TRAILHOUSE, "ingest", str(bucket), "--lake", str(crashed)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ingested 0 + skipped 0 + quarantined 0" in again.stdout
