"""The state of a lake: tables, the ledger's reconciliation, freshness and lag."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.compute as pc

from trailhouse.lake import Lake
from trailhouse.lifecycle import EVENT_TABLES, partitions

_TABLES = ("cloudtrail", "cloudtrail_insights", "cloudtrail_digests", "ledger", "quarantine")


@dataclass(frozen=True)
class TableStatus:
    name: str
    version: int
    files: int
    bytes: int
    # files without the derived columns compaction stores (query.derived): reports compute them
    uncompacted_files: int = 0


@dataclass(frozen=True)
class LakeStatus:
    """What `trailhouse status` prints and `/api/status` returns."""

    lake: str
    tables: tuple[TableStatus, ...]
    objects_by_status: dict[str, int]
    objects_by_kind: dict[str, int]
    records: int
    rows_written: int
    duplicates: int
    records_quarantined: int
    bytes_ingested: int
    last_ingest: str | None
    newest_event: str | None
    lag_seconds: float | None  # now - newest eventTime
    backlog: dict[str, Any] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.records == self.rows_written + self.duplicates + self.records_quarantined

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reconciles"] = self.reconciles
        return data


def _counts(values: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items()))


def lake_status(lake: Lake) -> LakeStatus:
    """Summarise the lake from its ledger and table logs (no scan of the events)."""
    tables = []
    for name in _TABLES:
        version = lake.version(name)
        if version is not None:
            if name in EVENT_TABLES:  # one read of the table's files for all three counts
                days = partitions(lake, name)
                files, size = sum(d.files for d in days), sum(d.bytes for d in days)
                uncompacted = sum(d.without_derived for d in days)
            else:
                (files, size), uncompacted = lake.size_bytes(name), 0
            tables.append(TableStatus(name, version, files, size, uncompacted))
    ledger = lake.read("ledger")
    sums = dict.fromkeys(("records", "rows_written", "duplicates", "records_quarantined"), 0)
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    ingested_bytes = 0
    last_ingest = None
    if ledger is not None and ledger.num_rows:
        for column in sums:
            sums[column] = int(pc.sum(ledger.column(column)).as_py() or 0)
        by_status = _counts(ledger.column("status").to_pylist())
        by_kind = _counts(ledger.column("kind").to_pylist())
        ingested = ledger.filter(pc.equal(ledger.column("status"), "ingested"))
        ingested_bytes = int(pc.sum(ingested.column("bytes")).as_py() or 0)
        newest = pc.max(ledger.column("ingested_at")).as_py()
        last_ingest = newest.isoformat() if newest else None
    newest_event = _newest_event(lake)
    lag = (datetime.now(UTC) - newest_event).total_seconds() if newest_event else None
    return LakeStatus(
        lake=lake.root,
        tables=tuple(tables),
        objects_by_status=by_status,
        objects_by_kind=by_kind,
        bytes_ingested=ingested_bytes,
        last_ingest=last_ingest,
        newest_event=newest_event.isoformat() if newest_event else None,
        lag_seconds=lag,
        records=sums["records"],
        rows_written=sums["rows_written"],
        duplicates=sums["duplicates"],
        records_quarantined=sums["records_quarantined"],
    )


def _newest_event(lake: Lake) -> datetime | None:
    """The newest eventTime, from the table's file statistics (no data scan)."""
    stats = lake.column_max("cloudtrail", "eventTime")
    return stats if isinstance(stats, datetime) else None
