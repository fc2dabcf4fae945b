"""The objects gathered for one commit: their ledger and quarantine rows (parsers hold the files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from trailhouse.ingest.ledger import LedgerRow
from trailhouse.model.schema import QUARANTINE_SCHEMA
from trailhouse.sources.base import ObjectRef

_RAW_KEPT = 1024 * 1024  # of an unreadable object, the first MiB is kept in the quarantine


@dataclass(frozen=True)
class QuarantineRow:
    source_object: str
    uri: str
    record_index: int
    reason: str
    raw: bytes


@dataclass
class Batch:
    """Work gathered since the last commit (its rows are already in the parsers' open files)."""

    ledger: dict[str, list[LedgerRow]] = field(default_factory=dict)  # by table ("" = no data commit)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    refs: list[ObjectRef] = field(default_factory=list)
    pending_objects: set[str] = field(default_factory=set)
    bytes: int = 0

    def add(self, ref: ObjectRef, row: LedgerRow, table: str = "") -> None:
        """Record an object; `table` is the data commit that will name it ("" = none)."""
        if not table and row.status == "quarantined":
            table = "quarantine"
        self.ledger.setdefault(table, []).append(row)
        self.refs.append(ref)
        self.pending_objects.add(row.source_object)
        self.bytes += row.bytes

    def __len__(self) -> int:
        return len(self.refs)


def quarantine_table(rows: list[QuarantineRow]) -> pa.Table:
    now = datetime.now(UTC)
    return pa.table(
        {
            "source_object": [r.source_object for r in rows],
            "uri": [r.uri for r in rows],
            "record_index": [r.record_index for r in rows],
            "reason": [r.reason for r in rows],
            "raw": [r.raw[:_RAW_KEPT] for r in rows],
            "quarantined_at": [now] * len(rows),
        },
        schema=QUARANTINE_SCHEMA,
    )
