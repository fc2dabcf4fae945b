from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.conftest import ACCOUNT, event, log_key, strip_nulls, write_log
from trailhouse.ingest.export import original_records
from trailhouse.ingest.ledger import Ledger, LedgerRow, rows_metadata
from trailhouse.ingest.pipeline import IngestOptions, IngestResult, ingest
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine
from trailhouse.sources.base import ObjectRef
from trailhouse.sources.local import LocalSource


def run(root: Path, lake: Lake, **options: Any) -> IngestResult:
    result = ingest([LocalSource(root)], lake, IngestOptions(workers=options.pop("workers", 1), **options))
    assert result.reconciles(), result
    return result


def exported(lake: Lake) -> list[dict[str, Any]]:
    rows = Engine(lake).query("SELECT * FROM cloudtrail ORDER BY eventTime, eventID")
    return list(original_records(rows))


def test_pipeline_export_gives_back_every_record_once(tmp_path: Path) -> None:
    records = [event(eventTime=f"2026-11-01T10:0{i}:00Z") for i in range(5)]
    write_log(tmp_path / "b", log_key(stamp="20261101T1005Z"), records[:3])
    write_log(tmp_path / "b", log_key(stamp="20261101T1010Z"), records[3:])
    lake = Lake(tmp_path / "lake")
    result = run(tmp_path / "b", lake)
    assert (result.ingested, result.rows_written, result.duplicates) == (2, 5, 0)
    assert exported(lake) == [strip_nulls(r) for r in records]


def test_pipeline_rerun_adds_nothing(tmp_path: Path) -> None:
    write_log(tmp_path / "b", log_key(), [event(), event()])
    lake = Lake(tmp_path / "lake")
    run(tmp_path / "b", lake)
    version = lake.version("cloudtrail")
    again = run(tmp_path / "b", lake)
    assert (again.already_done, again.ingested, again.rows_written, again.commits) == (1, 0, 0, 0)
    assert lake.version("cloudtrail") == version


def test_pipeline_stores_an_event_once_when_org_and_account_trails_both_deliver_it(tmp_path: Path) -> None:
    shared = [event(), event()]
    write_log(tmp_path / "b", log_key(org="o-abc123defg", stamp="20261101T1005Z"), [*shared, event()])
    write_log(tmp_path / "b", log_key(stamp="20261101T1010Z"), shared)
    lake = Lake(tmp_path / "lake")
    result = run(tmp_path / "b", lake)
    assert (result.records, result.rows_written, result.duplicates) == (5, 3, 2)
    # a later run that meets a third copy also drops it, reading the day's keys from the lake
    write_log(tmp_path / "b", log_key(stamp="20261101T1015Z"), shared[:1])
    later = run(tmp_path / "b", lake)
    assert (later.rows_written, later.duplicates) == (0, 1)
    assert Engine(lake).query("SELECT count(*) AS n FROM cloudtrail").column("n")[0].as_py() == 3


def test_pipeline_keeps_records_without_an_event_id(tmp_path: Path) -> None:
    anonymous = event()
    del anonymous["eventID"]
    write_log(tmp_path / "b", log_key(stamp="20261101T1005Z"), [anonymous])
    write_log(tmp_path / "b", log_key(stamp="20261101T1010Z"), [anonymous])
    result = run(tmp_path / "b", Lake(tmp_path / "lake"))
    assert (result.rows_written, result.duplicates) == (2, 0)


def test_pipeline_accounts_for_every_object(tmp_path: Path) -> None:
    root = tmp_path / "b"
    write_log(root, log_key(), [event(), "not an object"])
    write_log(root, f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/01/broken.json.gz", b"{not json")
    write_log(root, f"AWSLogs/{ACCOUNT}/Config/eu-west-1/2026/11/1/snapshot.json.gz", b"{}")
    write_log(root, "exports/array.json", b'[{"eventName": "X"}]', compress=False)
    (root / "README.txt").write_text("hello")
    lake = Lake(tmp_path / "lake")
    result = run(root, lake)
    assert (result.objects_seen, result.ingested, result.skipped, result.quarantined) == (5, 1, 3, 1)
    assert (result.records, result.rows_written, result.records_quarantined) == (2, 1, 1)
    ledger = Engine(lake).query("SELECT uri, status, reason FROM ledger ORDER BY uri").to_pylist()
    reasons = {Path(r["uri"]).name: (r["status"], r["reason"]) for r in ledger}
    assert reasons["broken.json.gz"][0] == "quarantined"
    assert reasons["snapshot.json.gz"] == ("skipped", "AWS Config file, not CloudTrail")
    assert reasons["array.json"][1].startswith("a JSON array")
    assert reasons["README.txt"] == ("skipped", "not a CloudTrail file (expected .json, .json.gz or .gz)")
    quarantine = Engine(lake).query("SELECT record_index, reason, raw FROM quarantine ORDER BY record_index")
    assert quarantine.column("record_index").to_pylist() == [-1, 1]
    broken = root / f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/01/broken.json.gz"
    assert quarantine.column("raw").to_pylist() == [broken.read_bytes(), b'"not an object"']


class _ChangingFolder(LocalSource):
    """A folder whose files change after they are listed: one vanishes, one becomes a folder."""

    def objects(self) -> Iterator[ObjectRef]:
        for ref in super().objects():
            yield ref
            path = Path(ref.uri)
            if path.name.startswith("gone"):
                path.unlink()
            elif path.name.startswith("folder"):
                path.unlink()
                path.mkdir()


@pytest.mark.parametrize("workers", [1, 2])
def test_pipeline_skips_a_file_gone_after_listing_and_quarantines_one_it_cannot_read(
    tmp_path: Path, workers: int
) -> None:
    root = tmp_path / "b"
    folder = f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/01"
    write_log(root, log_key(), [event()])
    write_log(root, f"{folder}/gone.json.gz", [event()])
    write_log(root, f"{folder}/folder.json.gz", [event()])
    lake = Lake(tmp_path / "lake")
    result = ingest([_ChangingFolder(root)], lake, IngestOptions(workers=workers))
    assert result.reconciles(), result
    assert (result.ingested, result.skipped, result.quarantined, result.rows_written) == (1, 1, 1, 1)
    ledger = Engine(lake).query("SELECT uri, status, reason FROM ledger").to_pylist()
    reasons = {Path(r["uri"]).name: (r["status"], r["reason"]) for r in ledger}
    assert reasons["gone.json.gz"] == ("skipped", "object no longer exists")
    assert reasons["folder.json.gz"] == ("quarantined", "cannot read the file: Is a directory")


def test_pipeline_repairs_the_ledger_after_a_crash_between_commits(tmp_path: Path) -> None:
    # The data commit landed (naming its object) but the process died before the ledger append.
    lake = Lake(tmp_path / "lake")
    write_log(tmp_path / "b", log_key(), [event()])
    run(tmp_path / "b", lake)
    orphan = LedgerRow(
        "AWSLogs/x/orphan.json.gz", "/x/orphan.json.gz", "events", "ingested", records=1, rows_written=1
    )
    rows = lake.read("cloudtrail")
    assert rows is not None
    rows = rows.slice(0, 1)
    version = lake.append("cloudtrail", rows, partition_by=["event_date"], metadata=rows_metadata([orphan]))
    assert "AWSLogs/x/orphan.json.gz" not in Ledger(lake).done()
    assert Ledger(lake).repair() == 1
    repaired = Engine(lake).query("SELECT * FROM ledger WHERE source_object = 'AWSLogs/x/orphan.json.gz'")
    assert repaired.column("commit_version").to_pylist() == [version]
    assert Ledger(lake).repair() == 0


def test_pipeline_batches_small_objects_into_few_commits_and_files(tmp_path: Path) -> None:
    for minute in range(40):
        write_log(tmp_path / "b", log_key(stamp=f"20261101T10{minute:02d}Z"), [event()])
    lake = Lake(tmp_path / "lake")
    result = run(tmp_path / "b", lake)
    assert result.commits == 1
    assert lake.size_bytes("cloudtrail")[0] == 1


def test_pipeline_one_day_query_opens_only_that_days_files(tmp_path: Path) -> None:
    for day in range(1, 31):
        stamp = f"202611{day:02d}T1005Z"
        write_log(tmp_path / "b", log_key(stamp=stamp), [event(eventTime=f"2026-11-{day:02d}T10:00:00Z")])
    lake = Lake(tmp_path / "lake")
    run(tmp_path / "b", lake, batch_mb=0)  # one commit per object: 30 days, 30 files
    dataset = lake.dataset("cloudtrail")
    assert dataset is not None and len(list(dataset.get_fragments())) == 30
    import datetime as dt

    start = dt.datetime(2026, 11, 7, tzinfo=dt.UTC)
    by_time = (ds.field("eventTime") >= start) & (ds.field("eventTime") < start + dt.timedelta(days=1))
    assert len(list(dataset.get_fragments(filter=by_time))) == 1
    assert len(list(dataset.get_fragments(filter=ds.field("event_date") == start.date()))) == 1


def test_pipeline_allow_lists_skip_other_accounts_with_a_reason(tmp_path: Path) -> None:
    write_log(tmp_path / "b", log_key(account="111111111111"), [event()])
    write_log(tmp_path / "b", log_key(account="222222222222"), [event()])
    lake = Lake(tmp_path / "lake")
    result = run(tmp_path / "b", lake, accounts=frozenset({"111111111111"}))
    assert (result.ingested, result.skipped) == (1, 1)
    reasons = Engine(lake).query("SELECT reason FROM ledger WHERE status = 'skipped'").column(0).to_pylist()
    assert reasons == ["account 222222222222 is not in the accounts allow-list"]


def test_pipeline_parses_in_worker_processes_with_the_same_result(tmp_path: Path) -> None:
    records = [event(eventTime=f"2026-11-01T10:{i:02d}:00Z") for i in range(12)]
    for i in range(6):
        write_log(tmp_path / "b", log_key(stamp=f"20261101T10{i:02d}Z"), records[2 * i : 2 * i + 2])
    one, two = Lake(tmp_path / "one"), Lake(tmp_path / "two")
    run(tmp_path / "b", one, workers=1)
    run(tmp_path / "b", two, workers=2)
    assert exported(one) == exported(two) == [strip_nulls(r) for r in records]


def test_pipeline_dedup_survives_many_days_within_one_batch(tmp_path: Path) -> None:
    # The first copy is still uncommitted when its day is pushed out of the key cache.
    shared = event(eventTime="2026-11-01T10:00:00Z")
    write_log(tmp_path / "b", log_key(stamp="20261101T1005Z"), [shared])
    for day in range(2, 12):
        write_log(
            tmp_path / "b",
            "other/" + log_key(stamp=f"202611{day:02d}T1005Z"),
            [event(eventTime=f"2026-11-{day:02d}T10:00:00Z")],
        )
    write_log(tmp_path / "b", log_key(stamp="20261130T1005Z"), [shared])  # met last: day folders go in order
    result = run(tmp_path / "b", Lake(tmp_path / "lake"))
    assert (result.rows_written, result.duplicates) == (11, 1)


def test_pipeline_big_object_rows_equal_what_small_objects_give(tmp_path: Path) -> None:
    # An object of a group (1.5 MiB stored) or more is streamed, its rows spilled to disk (parsers.py).
    records = [
        event(
            eventID=str(uuid.UUID(int=i)),
            eventTime=f"2026-11-0{1 + i % 2}T10:00:{i % 60:02d}Z",
            requestParameters={"padding": "x" * 1500, "n": i},
        )
        for i in range(3000)
    ]
    odd = event(eventID="odd-one", eventTime="2026-11-01T10:00:00.5Z", unknownKey=[1])  # rescued
    big = json.dumps({"Records": [*records, *records[:5], odd, 42]}).encode()  # 5 copies, 1 bad
    assert len(big) >= 4 * 1024 * 1024
    write_log(tmp_path / "b", log_key(stamp="20261101T1005Z").removesuffix(".gz"), big, compress=False)
    write_log(tmp_path / "b", log_key(stamp="20261101T1010Z"), records[10:13])  # 3 more copies
    for workers, batch_mb in ((1, 256), (2, 256), (1, 32)):  # 32: the low-memory setting
        lake = Lake(tmp_path / f"lake{workers}-{batch_mb}")
        result = run(tmp_path / "b", lake, workers=workers, batch_mb=batch_mb)
        assert (result.rows_written, result.duplicates, result.records_quarantined) == (3001, 8, 1)
        expected = sorted([*records, odd], key=lambda r: (r["eventTime"].replace(".5Z", "Z"), r["eventID"]))
        assert exported(lake) == [strip_nulls(r) for r in expected]
