"""The ledger: one row per source object seen, never out of step with the data.

Each data commit (cloudtrail, cloudtrail_insights, cloudtrail_digests, quarantine) carries, in its
commit metadata, the ledger rows of the objects it contains. The `ledger` table is appended right
after; if a process dies in between, `repair()` copies the missing rows from the data tables'
commit history on the next run. So an object is "done" exactly when its data is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from trailhouse.lake import Lake
from trailhouse.model.schema import LEDGER_SCHEMA

LEDGER = "ledger"
DATA_TABLES = ("cloudtrail", "cloudtrail_insights", "cloudtrail_digests", "quarantine")
_LOOK_BACK_COMMITS = 64
Status = Literal["ingested", "skipped", "quarantined"]


@dataclass(frozen=True)
class LedgerRow:
    """What happened to one source object."""

    source_object: str
    uri: str
    kind: str
    status: str
    reason: str = ""
    bytes: int = 0
    records: int = 0
    rows_written: int = 0
    duplicates: int = 0
    records_quarantined: int = 0
    table_name: str = ""
    commit_version: int = -1
    validation: str | None = None
    ingested_at: str = ""  # ISO time, set when recorded

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in ("", None, 0, -1)}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _table(rows: Sequence[LedgerRow]) -> pa.Table:
    columns: dict[str, list[Any]] = {
        name: [getattr(row, name) for row in rows] for name in LEDGER_SCHEMA.names
    }
    columns["ingested_at"] = [datetime.fromisoformat(t) if t else None for t in columns["ingested_at"]]
    columns["commit_version"] = [None if v < 0 else v for v in columns["commit_version"]]
    return pa.table(columns, schema=LEDGER_SCHEMA)


class Ledger:
    """Reads and appends the ledger of one lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def record(self, rows: Sequence[LedgerRow]) -> None:
        if rows:
            stamped = [replace(r, ingested_at=r.ingested_at or _now()) for r in rows]
            self.lake.append(LEDGER, _table(stamped), metadata={"ledger_rows": len(stamped)})

    def repair(self) -> int:
        """Append the ledger rows of data commits that the ledger lacks; returns how many."""
        recorded = self.lake.read(LEDGER, columns=["table_name", "commit_version"])
        missing: list[LedgerRow] = []
        for table in DATA_TABLES:
            known: set[int] = set()
            if recorded is not None and recorded.num_rows:
                mine = recorded.filter(pc.equal(recorded.column("table_name"), table))
                known = {v for v in mine.column("commit_version").to_pylist() if v is not None}
            # Concurrent writers may record their ledger rows out of order: look a little back.
            after = max(known) - _LOOK_BACK_COMMITS if known else -1
            for version, metadata in self.lake.commits(table, after_version=after):
                if version in known:
                    continue
                for entry in metadata.get("objects", []):
                    missing.append(LedgerRow(**{**entry, "table_name": table, "commit_version": version}))
        self.record(missing)
        return len(missing)

    def done(self) -> set[str]:
        """Identities of every object already accounted for."""
        table = self.lake.read(LEDGER, columns=["source_object"])
        return set() if table is None else set(table.column("source_object").to_pylist())


def rows_metadata(rows: Iterable[LedgerRow]) -> dict[str, Any]:
    """Commit metadata naming the objects a data commit contains."""
    return {"objects": [r.as_metadata() for r in rows]}
