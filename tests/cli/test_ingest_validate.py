"""`ingest --validate`: each object's validation outcome shows in the ledger and digests views."""

from __future__ import annotations

import gzip
from pathlib import Path

from click.testing import CliRunner

from trailhouse.cli.main import cli
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine


def test_ingest_validate_records_outcomes_in_the_ledger_and_digests(tmp_path: Path) -> None:
    bucket, lake = tmp_path / "bucket", tmp_path / "lake"
    runner = CliRunner()
    assert runner.invoke(cli, ["sample", str(bucket), "--events", "2000", "--days", "1", "-q"]).exit_code == 0
    log = next(bucket.rglob("*_CloudTrail_*.json.gz"))
    tampered = log.relative_to(bucket).as_posix()
    text = gzip.decompress(log.read_bytes())
    log.write_bytes(gzip.compress(text.replace(b'"eventVersion":"1.', b'"eventVersion":"9.', 1)))  # one byte
    args = [
        "ingest",
        str(bucket),
        "--lake",
        str(lake),
        "--validate",
        "--public-keys",
        str(bucket / "public-keys.json"),
    ]
    result = runner.invoke(cli, args)
    engine = Engine(Lake(lake))
    ledger = engine.query("SELECT source_object, validation FROM ledger WHERE kind = 'events'").to_pylist()
    statuses = {row["source_object"]: row["validation"] for row in ledger}
    assert statuses[tampered] == "invalid"
    outcomes = list(statuses.values())
    assert outcomes.count("invalid") == 1
    assert outcomes.count("valid") >= len(outcomes) - 2  # the last delivery may be in no digest yet
    digests = engine.query("SELECT DISTINCT validation_status FROM cloudtrail_digests").column(0).to_pylist()
    assert digests == ["valid"]
    assert "invalid" in result.output.lower()  # the summary says so
