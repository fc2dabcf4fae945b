"""Which events the lake already holds, by (recipientAccountId, eventID), one UTC day at a time.

Two copies of one event (an organisation trail and an account trail both deliver it) carry the
same eventTime, so they fall on the same `event_date`. The index loads a day's keys from the lake
once (two columns of one partition), keeps the two most recent days (sources meet days in
order; a delivery just after midnight still holds the day before), and learns every key it
accepts, so each batch is checked without rescanning partitions. Records without an eventID are
always kept.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from trailhouse.lake import Lake

_KEY_COLUMNS = ("recipientAccountId", "eventID")


def _keys(table: pa.Table) -> list[str | None]:
    account = pc.fill_null(table.column("recipientAccountId"), "")
    joined = pc.binary_join_element_wise(account, table.column("eventID"), "/")
    keys: list[str | None] = joined.to_pylist()
    return keys


class DedupIndex:
    """Event keys already stored, per day, for the tables that carry eventID."""

    def __init__(self, lake: Lake, table: str, *, days_kept: int = 2) -> None:
        self.lake = lake
        self.table = table
        self.days_kept = days_kept
        self._days: OrderedDict[date | None, set[str]] = OrderedDict()
        # Keys accepted since the last commit: not in the lake yet, so never evicted.
        self._uncommitted: dict[date | None, set[str]] = {}

    def _day(self, day: date | None) -> set[str]:
        if day in self._days:
            self._days.move_to_end(day)
            return self._days[day]
        where = ds.field("event_date").is_null() if day is None else ds.field("event_date") == day
        stored = self.lake.read(self.table, columns=list(_KEY_COLUMNS), filter=where)
        keys = {k for k in _keys(stored) if k is not None} if stored is not None else set()
        keys |= self._uncommitted.get(day, set())
        self._days[day] = keys
        while len(self._days) > self.days_kept:
            self._days.popitem(last=False)
        return keys

    def committed(self) -> None:
        """Everything accepted so far is now in the lake (reloads will find it)."""
        self._uncommitted.clear()

    def keep_new(self, rows: pa.Table) -> tuple[pa.Table, int]:
        """The rows not yet stored (nor seen earlier in this run); and how many were dropped."""
        mask = self.new_mask(rows)
        dropped = mask.count(False)
        return (rows.filter(pa.array(mask)) if dropped else rows), dropped

    def new_mask(self, rows: pa.Table) -> list[bool]:
        """True for each row not yet stored nor seen earlier in this run (and learns it)."""
        if rows.num_rows == 0:
            return []
        keys = _keys(rows)
        dates = rows.column("event_date")
        days = pc.unique(dates).to_pylist()
        if len(days) == 1:
            return self._new_on(days[0], keys)
        mask = [True] * len(keys)
        for day in days:
            where = pc.is_null(dates) if day is None else pc.equal(dates, pa.scalar(day, pa.date32()))
            positions = pc.indices_nonzero(where).to_pylist()
            for position, is_new in zip(
                positions, self._new_on(day, [keys[p] for p in positions]), strict=True
            ):
                mask[position] = is_new
        return mask

    def _new_on(self, day: date | None, keys: list[str | None]) -> list[bool]:
        seen = self._day(day)
        learn = seen.add
        # first sighting: not seen before; add() returns None, so `not learn(k)` is True
        mask = [k is None or (k not in seen and not learn(k)) for k in keys]
        self._uncommitted.setdefault(day, set()).update(
            k for k, new in zip(keys, mask, strict=True) if new and k
        )
        return mask
