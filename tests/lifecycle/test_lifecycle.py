"""Compaction, retention, vacuum and checkpoints: what a lake holds before and after."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.query.lakes import build_lake, record
from trailhouse import lifecycle
from trailhouse.errors import ConcurrentChangeError, UsageError
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine


def _lake(tmp_path: Path) -> Lake:
    # Three deliveries (appends) over three days: several small files per partition.
    for hour in (1, 2, 3):
        build_lake(tmp_path, [record(eventTime=f"2026-11-0{d}T0{hour}:00:00Z") for d in (1, 2, 3)])
    return Lake(tmp_path)


def _rows(lake: Lake) -> list[str]:
    table = lake.read("cloudtrail", columns=["eventID"])
    assert table is not None
    return sorted(table.column("eventID").to_pylist())


def test_compact_leaves_one_sorted_file_per_partition_and_same_rows(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    before = _rows(lake)
    [result] = lifecycle.compact(lake)
    assert (result.table, result.files_before, result.files_after) == ("cloudtrail", 9, 3)
    assert sorted(result.partitions) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert _rows(lake) == before
    assert [p.files for p in lifecycle.partitions(lake, "cloudtrail")] == [1, 1, 1]


def test_compact_orders_each_day_by_service_then_event_name_and_keeps_statistics(tmp_path: Path) -> None:
    calls = [
        ("s3", "PutObject"),
        ("ec2", "RunInstances"),
        ("s3", "GetObject"),
        ("ec2", "AuthorizeSecurityGroupIngress"),
    ]
    for hour, (service, name) in enumerate(calls):
        build_lake(
            tmp_path,
            [
                record(
                    eventTime=f"2026-11-01T0{hour}:00:00Z",
                    eventSource=f"{service}.amazonaws.com",
                    eventName=name,
                )
            ],
        )
    lake = Lake(tmp_path)
    lifecycle.compact(lake)
    [path] = lake.files("cloudtrail") or []
    rows = pq.read_table(path.removeprefix("file://"), columns=["eventSource", "eventName"]).to_pylist()
    assert [(r["eventSource"], r["eventName"]) for r in rows] == sorted(
        (f"{s}.amazonaws.com", n) for s, n in calls
    )
    # the rewritten table answers a time filter, and its file carries Delta statistics (numRecords)
    assert Engine(lake).query(
        "SELECT count(*) AS n FROM cloudtrail WHERE eventTime > '2026-11-02'"
    ).to_pylist() == [{"n": 0}]
    assert [(p.files, p.rows) for p in lifecycle.partitions(lake, "cloudtrail")] == [(1, 4)]  # numRecords


def test_sorted_rewrite_cuts_a_file_every_rows_per_file_and_keeps_every_row(tmp_path: Path) -> None:
    build_lake(tmp_path, [record() for _ in range(3000)])
    lake = Lake(tmp_path)
    before = _rows(lake)
    written = lake.rewrite_sorted(
        "cloudtrail", partition="2026-11-01", sort_by=("eventName",), rows_per_file=1200, row_group_rows=500
    )
    [(_, files, _, rows, _)] = lake.partition_files("cloudtrail")
    assert (written, files, rows) == (2, 2, 3000) and _rows(lake) == before  # 1500, 1500 (row groups of 500)


def _parquet_files(root: Path) -> set[Path]:
    return set(root.rglob("*.parquet"))


def test_sorted_rewrite_keeps_rows_appended_after_the_snapshot_it_read(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    snapshot = lake.version("cloudtrail")
    build_lake(tmp_path, [record(eventTime="2026-11-01T09:00:00Z")])  # a delivery lands meanwhile
    before = _rows(lake)
    lake.rewrite_sorted(
        "cloudtrail", partition="2026-11-01", sort_by=("eventName",), rows_per_file=1000, version=snapshot
    )
    assert _rows(lake) == before  # the appended row is kept, the three rewritten ones are not doubled
    assert ("2026-11-01", 2) in [(p.partition, p.files) for p in lifecycle.partitions(lake, "cloudtrail")]


def test_a_rewrite_that_loses_to_a_concurrent_compaction_commits_nothing_and_leaves_no_files(
    tmp_path: Path,
) -> None:
    lake = _lake(tmp_path)
    snapshot = lake.version("cloudtrail")
    lifecycle.compact(lake)  # another compaction got there first
    before, version, files = _rows(lake), lake.version("cloudtrail"), _parquet_files(tmp_path)
    with pytest.raises(ConcurrentChangeError, match="event_date=2026-11-02 was changed by another writer"):
        lake.rewrite_sorted(
            "cloudtrail", partition="2026-11-02", sort_by=("eventName",), rows_per_file=1000, version=snapshot
        )
    assert (_rows(lake), lake.version("cloudtrail")) == (before, version)
    assert _parquet_files(tmp_path) == files  # its own new file was deleted


def test_compact_skips_partitions_already_in_one_file(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    lifecycle.compact(lake)
    version = lake.version("cloudtrail")
    [again] = lifecycle.compact(lake)
    assert again.partitions == () and lake.version("cloudtrail") == version


def test_retain_dry_run_lists_old_partitions_and_changes_nothing(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    [result] = lifecycle.retain(lake, days=19, today=date(2026, 11, 21), tables=("cloudtrail",))
    assert result.cutoff == date(2026, 11, 2)
    assert [p.partition for p in result.partitions] == ["2026-11-01"] and not result.applied
    assert len(_rows(lake)) == 9 and not lake.exists("ledger")


def test_retain_apply_deletes_whole_partitions_and_records_them_in_the_ledger(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    [result] = lifecycle.retain(lake, days=19, apply=True, today=date(2026, 11, 21), tables=("cloudtrail",))
    assert result.applied and result.rows == 3
    assert [p.partition for p in lifecycle.partitions(lake, "cloudtrail")] == ["2026-11-02", "2026-11-03"]
    ledger = lake.read("ledger")
    assert ledger is not None
    removed = ledger.filter(pc.equal(ledger.column("status"), "removed")).to_pylist()
    assert [(r["source_object"], r["kind"], r["records"], r["table_name"]) for r in removed] == [
        ("retention:cloudtrail/event_date=2026-11-01", "partition", 3, "cloudtrail")
    ]
    assert (
        removed[0]["reason"]
        == "retention: partition event_date=2026-11-01 older than 19 days (before 2026-11-02)"
    )


def test_retain_keeps_recent_partitions(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    [result] = lifecycle.retain(lake, days=30, apply=True, today=date(2026, 11, 21), tables=("cloudtrail",))
    assert result.partitions == () and not result.applied and len(_rows(lake)) == 9


def test_retain_refuses_zero_days(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Invalid value '0' for --days"):
        lifecycle.retain(_lake(tmp_path), days=0)


def test_vacuum_is_a_dry_run_unless_applied(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    lifecycle.compact(lake)
    [dry] = lifecycle.vacuum(lake, retention_hours=0)
    assert len(dry.files) == 9 and not dry.applied
    assert len(list(tmp_path.glob("cloudtrail/event_date=*/*.parquet"))) == 12
    [done] = lifecycle.vacuum(lake, retention_hours=0, apply=True)
    assert len(done.files) == 9
    assert len(list(tmp_path.glob("cloudtrail/event_date=*/*.parquet"))) == 3
    assert len(_rows(lake)) == 9


def test_vacuum_keeps_files_within_retention(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    lifecycle.compact(lake)
    [result] = lifecycle.vacuum(lake, apply=True)
    assert result.files == ()


def test_checkpoint_writes_a_delta_checkpoint(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    assert lifecycle.checkpoint(lake) == {"cloudtrail": 2}
    assert list((tmp_path / "cloudtrail" / "_delta_log").glob("*.checkpoint.parquet"))


def test_compact_sorts_insights_by_their_own_columns(tmp_path: Path) -> None:
    insight = record(
        eventType="AwsCloudTrailInsight", eventCategory="Insight", insightDetails={"state": "Start"}
    )
    for _ in range(2):
        build_lake(tmp_path, [record()], [insight])
    results = {r.table: r for r in lifecycle.compact(Lake(tmp_path))}
    assert (results["cloudtrail_insights"].files_before, results["cloudtrail_insights"].files_after) == (2, 1)
