"""A generated bucket (organisation trail overlapping account trails, Insights files among the
logs) comes back from export record for record, each event once: the expectation is computed with
plain gzip and json over the files, independently of the reader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import canonical
from trailhouse.ingest.export import original_records
from trailhouse.ingest.pipeline import IngestOptions, IngestResult, ingest
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine
from trailhouse.sample import SampleSpec, write_sample
from trailhouse.sources.local import LocalSource

TABLE_OF_FOLDER = {"CloudTrail": "cloudtrail", "CloudTrail-Insight": "cloudtrail_insights"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake, IngestResult]:
    root = tmp_path_factory.mktemp("bucket")
    spec = SampleSpec(
        root=root, accounts=2, regions=2, days=2, events=4000, org=True, overlap=True, digests=False
    )
    write_sample(spec, force=True)
    lake = Lake(tmp_path_factory.mktemp("lake"))
    return root, lake, ingest([LocalSource(root)], lake, IngestOptions(workers=2))


def _raw_records(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Per table, every record of the bucket's log files, as delivered (duplicates included)."""
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLE_OF_FOLDER.values()}
    for path in sorted(root.rglob("*.json.gz")):
        folder = next((part for part in path.parts if part in TABLE_OF_FOLDER), None)
        if folder is not None:
            found[TABLE_OF_FOLDER[folder]] += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return found


def test_generated_bucket_is_ingested_whole_with_nothing_quarantined(
    generated: tuple[Path, Lake, IngestResult],
) -> None:
    _, _, result = generated
    assert result.reconciles(), result
    assert (result.quarantined, result.records_quarantined) == (0, 0)
    assert result.duplicates > 0  # the organisation trail delivered some events twice


@pytest.mark.parametrize("table", sorted(TABLE_OF_FOLDER.values()))
def test_generated_bucket_exports_every_record_once(
    generated: tuple[Path, Lake, IngestResult], table: str
) -> None:
    root, lake, _ = generated
    delivered = _raw_records(root)[table]
    once = {(r["recipientAccountId"], r["eventID"]): canonical(r) for r in delivered}
    rows = Engine(lake).query(f"SELECT * FROM {table}")
    exported = sorted(canonical(record) for record in original_records(rows, table))
    assert len(once) > 0 and exported == sorted(once.values())
