"""Keeping the lake fast and bounded: compaction, retention, vacuum and Delta checkpoints.

Destructive steps default to a dry run (`apply=False`) and report what they would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from trailhouse.errors import ConcurrentChangeError, UsageError
from trailhouse.ingest.ledger import Ledger, LedgerRow
from trailhouse.lake import Lake

EVENT_TABLES = ("cloudtrail", "cloudtrail_insights")
# Within a day, rows are ordered by service, then event name (a lexicographic sort, see
# Lake.rewrite_sorted): every report but three reads one or two services, and most of those a few
# event names, so min/max statistics skip most row groups. delta-rs' Z-order interleaves the
# columns' bits and spread a service's rows over many more row groups; ordering by eventSource
# alone made the service-filtered reports 1.2-1.7x faster at 10M events. Adding eventName, on a
# copy of the 10M bench lake: access-denied 0.68x, account-activity 0.82x, error-overview 0.89x,
# s3-writes 0.92-0.96x, the rest 0.95-1.05x at 131,072-row groups (32,768-row groups were slower
# for most reports); on the API bench lake's dashboard view (last week): security-group-changes
# 0.70x, general-operations 0.84x, account-activity 0.85x, error-overview 0.96x.
SORT_BY = {
    "cloudtrail": ("eventSource", "eventName"),
    "cloudtrail_insights": ("recipientAccountId", "awsRegion", "eventTime"),
}
# Rows per row group: small enough that a service with few events sits in one or two, large
# enough that a full scan does not pay per-group overhead (at 10M events 131,072 rows made the
# full-scan reports 10-30% faster than 16,384 and left the service-filtered ones as they were).
ROW_GROUP_ROWS = 131_072
REMOVED = "removed"


@dataclass(frozen=True)
class PartitionInfo:
    table: str
    partition: str  # event_date value, YYYY-MM-DD
    files: int
    bytes: int
    rows: int
    without_derived: int = 0  # files lacking the current derived columns (query.derived)


@dataclass(frozen=True)
class CompactResult:
    """Per table: the partitions rewritten, files before and after, and those another writer
    changed meanwhile (left as they were, to compact again)."""

    table: str
    partitions: tuple[str, ...]
    files_before: int
    files_after: int
    bytes: int
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetainResult:
    """The partitions older than the cutoff: removed when `applied`, else only listed."""

    cutoff: date
    partitions: tuple[PartitionInfo, ...]
    applied: bool

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)


@dataclass(frozen=True)
class VacuumResult:
    table: str
    files: tuple[str, ...]
    applied: bool


def partitions(lake: Lake, table: str) -> list[PartitionInfo]:
    """Each event_date partition of `table` with its files, bytes and rows."""
    return [
        PartitionInfo(table, value, files, size, rows, without_derived)
        for value, files, size, rows, without_derived in lake.partition_files(table)
    ]


def compact(
    lake: Lake,
    *,
    tables: tuple[str, ...] = EVENT_TABLES,
    target_file_mb: int = 128,
    everything: bool = False,
    stopping: Callable[[], bool] = lambda: False,
) -> list[CompactResult]:
    """Rewrite each partition that has several files into files of ~target_file_mb, ordered by SORT_BY,
    with the derived columns of query.derived stored in them.

    A partition already held in one file with the current derived columns is left alone unless
    `everything`. A checkpoint follows. Once `stopping()` is true, no further partition starts.
    """
    results = []
    for table in tables:
        if not lake.exists(table):
            continue
        before = partitions(lake, table)
        chosen = [p for p in before if p.files > 1 or p.without_derived or everything]
        rewritten, conflicts = [], []
        for info in chosen:
            if stopping():
                break
            # rows per file from the partition's own bytes per row (its files are zstd Parquet too)
            per_file = target_file_mb * 1024 * 1024 * info.rows // max(info.bytes, 1)
            try:
                lake.rewrite_sorted(
                    table,
                    partition=info.partition,
                    sort_by=SORT_BY[table],
                    rows_per_file=max(ROW_GROUP_ROWS, per_file),
                    row_group_rows=ROW_GROUP_ROWS,
                )
                rewritten.append(info.partition)
            except ConcurrentChangeError:
                conflicts.append(info.partition)
        if rewritten:
            lake.checkpoint(table)
        after = partitions(lake, table)
        results.append(
            CompactResult(
                table=table,
                partitions=tuple(rewritten),
                files_before=sum(p.files for p in before),
                files_after=sum(p.files for p in after),
                bytes=sum(p.bytes for p in after),
                conflicts=tuple(conflicts),
            )
        )
    return results


def retain(
    lake: Lake,
    *,
    days: int,
    apply: bool = False,
    tables: tuple[str, ...] = EVENT_TABLES,
    today: date | None = None,
) -> list[RetainResult]:
    """Whole event_date partitions older than `days` days (before today - days): listed, or removed.

    With `apply`, the partitions are deleted in one commit per table and each removal is
    recorded in the ledger (status "removed", kind "partition"). Files stay on disk until vacuum.
    """
    if days < 1:
        raise UsageError(f"Invalid value '{days}' for --days\nKeep at least one day: pass --days 1 or more.")
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=days)
    results = []
    for table in tables:
        old = tuple(p for p in partitions(lake, table) if p.partition < cutoff.isoformat())
        if apply and old:
            lake.delete_partitions(table, before=cutoff.isoformat())
            version = lake.version(table)
            Ledger(lake).record(
                [
                    LedgerRow(
                        source_object=f"retention:{table}/event_date={p.partition}",
                        uri=f"{lake.uri(table)}/event_date={p.partition}",
                        kind="partition",
                        status=REMOVED,
                        reason=f"retention: partition event_date={p.partition} older than {days} days "
                        f"(before {cutoff.isoformat()})",
                        bytes=p.bytes,
                        records=p.rows,
                        table_name=table,
                        commit_version=-1 if version is None else version,
                    )
                    for p in old
                ]
            )
        results.append(RetainResult(cutoff=cutoff, partitions=old, applied=apply and bool(old)))
    return results


def vacuum(
    lake: Lake,
    *,
    retention_hours: int = 168,
    apply: bool = False,
    tables: tuple[str, ...] = EVENT_TABLES,
) -> list[VacuumResult]:
    """Files no longer in any version newer than `retention_hours`: listed, or deleted with `apply`."""
    if retention_hours < 0:
        raise UsageError(f"Invalid value '{retention_hours}' for --retention-hours\nPass 0 or more.")
    return [
        VacuumResult(
            table, tuple(lake.vacuum(table, retention_hours=retention_hours, dry_run=not apply)), apply
        )
        for table in tables
        if lake.exists(table)
    ]


def _vacuum(lake: Lake, table: str, retention_hours: int, apply: bool) -> tuple[str, ...]:
    return tuple(lake.vacuum(table, retention_hours=retention_hours, dry_run=not apply))


def checkpoint(lake: Lake, *, tables: tuple[str, ...] = EVENT_TABLES) -> dict[str, int]:
    """Write a checkpoint of each table; returns the version checkpointed per table."""
    done = {}
    for table in tables:
        version = lake.checkpoint(table)
        if version is not None:
            done[table] = version
    return done
