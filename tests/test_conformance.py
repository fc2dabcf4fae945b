"""Conformance over ../shared/corpus: CloudTrail data and test vectors written by other projects.

Every file in CloudTrail's own format ({"Records": [...]}, gzipped or not) must come back from
`export` JSON-equal, each event once; everything else must be skipped or quarantined with a
reason; nothing may crash. The expectation is computed here with plain json/gzip, independently
of the reader.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import canonical, corpus_or_skip
from trailhouse.ingest.export import original_records
from trailhouse.ingest.pipeline import IngestOptions, ingest
from trailhouse.lake import Lake
from trailhouse.model.keys import classify_key
from trailhouse.query.engine import Engine
from trailhouse.sources.local import LocalSource


def _records_if_cloudtrail(path: Path) -> list[Any] | None:
    raw = path.read_bytes()
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        document = json.loads(text)
    except (OSError, ValueError):
        return None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        return document["Records"]
    return None


@pytest.fixture(scope="module")
def corpus_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake, Any]:
    corpus = corpus_or_skip()
    lake = Lake(tmp_path_factory.mktemp("conformance") / "lake")
    result = ingest([LocalSource(corpus)], lake, IngestOptions(workers=1))
    return corpus, lake, result


def test_conformance_every_object_is_accounted_for(corpus_lake: tuple[Path, Lake, Any]) -> None:
    corpus, lake, result = corpus_lake
    files = [p for p in corpus.rglob("*") if p.is_file()]
    assert result.reconciles()
    assert result.objects_seen == len(files)
    ledger = Engine(lake).query("SELECT uri, status, reason FROM ledger").to_pylist()
    assert len(ledger) == len(files)
    for row in ledger:
        assert row["status"] in {"ingested", "skipped", "quarantined"}
        if row["status"] != "ingested":
            assert row["reason"], row


def test_conformance_cloudtrail_files_export_equal_each_event_once(
    corpus_lake: tuple[Path, Lake, Any],
) -> None:
    corpus, lake, _ = corpus_lake
    expected: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    cloudtrail_files = 0
    for ref in LocalSource(corpus).objects():  # the order ingest met them: the first copy wins
        if classify_key(ref.key, ref.size).kind != "events":
            continue
        records = _records_if_cloudtrail(Path(ref.uri))
        if records is None:
            continue
        cloudtrail_files += 1
        for record in records:
            if not isinstance(record, dict):
                continue
            key = (
                str(record.get("recipientAccountId") or ""),
                record.get("eventID"),
                str(record.get("eventTime"))[:10],
            )
            if record.get("eventID") is not None:
                if key in seen:
                    continue
                seen.add(key)
            expected.append(canonical(record))
    assert cloudtrail_files >= 30
    rows = Engine(lake).query("SELECT * FROM cloudtrail")
    actual = [canonical(r) for r in original_records(rows)]
    assert sorted(actual) == sorted(expected)


def test_conformance_non_cloudtrail_inputs_are_not_half_read(corpus_lake: tuple[Path, Lake, Any]) -> None:
    _, lake, _ = corpus_lake
    engine = Engine(lake)
    arrays = engine.query("SELECT count(*) FROM ledger WHERE reason LIKE 'a JSON array%'").to_pylist()
    assert next(iter(arrays[0].values())) > 0  # the stratus-red-team exports are arrays
    half_read = engine.query(
        "SELECT l.uri FROM ledger l JOIN cloudtrail c ON c.source_object = l.source_object"
        " WHERE l.status <> 'ingested'"
    )
    assert half_read.num_rows == 0
