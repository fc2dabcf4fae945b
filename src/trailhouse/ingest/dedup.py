"""Which events the lake already holds, by (recipientAccountId, eventID), one UTC day at a time.

Two copies of one event (an organisation trail and an account trail both deliver it) carry the
same eventTime, so they fall on the same `event_date`. The index loads a day's keys from the lake
once (two columns of one partition), keeps the two most recent days (sources meet days in order;
a delivery just after midnight still holds the day before), and learns every key it accepts, so
each batch is checked without rescanning partitions. A day's keys live in one hash set, checked
in constant time per row (rebuilding a hash table of the whole day for every batch, as Arrow's
`is_in` does, cost more than the parsing). Records without an eventID are always kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

if TYPE_CHECKING:  # parser processes import KEY_COLUMNS and never load deltalake
    from trailhouse.lake import Lake

_EVENT_KEY = ("recipientAccountId", "eventID")
KEY_COLUMNS = (*_EVENT_KEY, "event_date")  # what `new_mask` reads of a table


def _keys(table: pa.Table) -> list[bytes | None]:
    """account/eventID per row as bytes; None where the record has no eventID."""
    account = pc.fill_null(table.column("recipientAccountId"), "")
    joined = pc.binary_join_element_wise(account, table.column("eventID"), "/")
    return pc.cast(joined, pa.binary()).to_pylist()  # type: ignore[no-any-return]


def _days(table: pa.Table) -> list[int | None]:
    """event_date as days since 1970 (None: no eventTime)."""
    return pc.cast(table.column("event_date"), pa.int32()).to_pylist()  # type: ignore[no-any-return]


class DedupIndex:
    """Event keys already stored, per day, for the tables that carry eventID."""

    def __init__(self, lake: Lake, table: str, *, days_kept: int = 2) -> None:
        self.lake = lake
        self.table = table
        self.days_kept = days_kept
        self._days: OrderedDict[int | None, set[bytes]] = OrderedDict()
        # Keys accepted since the last commit: not in the lake yet, so never evicted.
        self._uncommitted: dict[int | None, list[bytes]] = {}

    def _day(self, day: int | None) -> set[bytes]:
        known = self._days.get(day)
        if known is not None:
            self._days.move_to_end(day)
            return known
        if day is None:
            where = ds.field("event_date").is_null()
        else:
            where = ds.field("event_date") == pa.scalar(day, pa.int32()).cast(pa.date32())
        stored = self.lake.read(self.table, columns=list(_EVENT_KEY), filter=where)
        known = {key for key in _keys(stored) if key is not None} if stored is not None else set()
        known.update(self._uncommitted.get(day, ()))
        self._days[day] = known
        while len(self._days) > self.days_kept:
            self._days.popitem(last=False)
        return known

    def committed(self) -> None:
        """Everything accepted so far is now in the lake (reloads will find it)."""
        self._uncommitted.clear()

    def new_mask(self, rows: pa.Table) -> list[bool]:
        """True for each row not yet stored nor seen earlier in this run (and learns it)."""
        mask = []
        day_of_set: int | None = None
        known: set[bytes] = set()
        loaded = False
        for key, day in zip(_keys(rows), _days(rows), strict=True):
            if key is None:
                mask.append(True)
                continue
            if not loaded or day != day_of_set:
                known, day_of_set, loaded = self._day(day), day, True
            if key in known:
                mask.append(False)
                continue
            known.add(key)
            self._uncommitted.setdefault(day, []).append(key)
            mask.append(True)
        return mask
