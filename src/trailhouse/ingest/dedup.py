"""Which events the lake already holds, by (recipientAccountId, eventID), one UTC day at a time.

Two copies of one event (an organisation trail and an account trail both deliver it) carry the
same eventTime, so they fall on the same `event_date`. The index loads a day's keys from the lake
once (two columns of one partition), keeps the two most recent days (sources meet days in order;
a delivery just after midnight still holds the day before), and learns every key it accepts, so
each batch is checked without rescanning partitions. Keys live in Arrow arrays and are matched in
C (`is_in`): a day of 250k events costs ~13 MB, not a Python set's ~60 MB. Records without an
eventID are always kept.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from trailhouse.lake import Lake

_KEY_COLUMNS = ("recipientAccountId", "eventID")


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _keys(table: pa.Table) -> pa.Array:
    """account/eventID per row; null where the record has no eventID."""
    account = pc.fill_null(table.column("recipientAccountId"), "")
    return _array(pc.binary_join_element_wise(account, table.column("eventID"), "/"))


def _first_occurrences(keys: pa.Array) -> pa.Array:
    """True where a key appears for the first time in `keys` (nulls: True)."""
    positions = pa.table({"key": keys, "position": pa.array(range(len(keys)), pa.int64())})
    firsts = positions.group_by("key", use_threads=False).aggregate([("position", "min")])
    first = pc.is_in(positions.column("position"), value_set=_array(firsts.column("position_min")))
    return _array(pc.or_(first, pc.is_null(keys)))


class DedupIndex:
    """Event keys already stored, per day, for the tables that carry eventID."""

    def __init__(self, lake: Lake, table: str, *, days_kept: int = 2) -> None:
        self.lake = lake
        self.table = table
        self.days_kept = days_kept
        self._days: OrderedDict[date | None, list[pa.Array]] = OrderedDict()
        # Keys accepted since the last commit: not in the lake yet, so never evicted.
        self._uncommitted: dict[date | None, list[pa.Array]] = {}

    def _day(self, day: date | None) -> list[pa.Array]:
        if day in self._days:
            self._days.move_to_end(day)
            return self._days[day]
        where = ds.field("event_date").is_null() if day is None else ds.field("event_date") == day
        stored = self.lake.read(self.table, columns=list(_KEY_COLUMNS), filter=where)
        keys = [pc.drop_null(_keys(stored))] if stored is not None and stored.num_rows else []
        self._days[day] = keys + self._uncommitted.get(day, [])
        while len(self._days) > self.days_kept:
            self._days.popitem(last=False)
        return self._days[day]

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
        new = pa.array([True] * len(keys))
        for day in pc.unique(dates).to_pylist():
            on_day = _array(
                pc.is_null(dates) if day is None else pc.equal(dates, pa.scalar(day, pa.date32()))
            )
            day_keys = keys.filter(on_day)
            fresh = pc.and_(pc.invert(self._seen(day, day_keys)), _first_occurrences(day_keys))
            fresh = _array(pc.or_(fresh, pc.is_null(day_keys)))
            self._learn(day, pc.drop_null(day_keys.filter(fresh)))
            new = pc.replace_with_mask(new, on_day, fresh)
        return new.to_pylist()  # type: ignore[no-any-return]

    def _seen(self, day: date | None, keys: pa.Array) -> pa.Array:
        seen = pa.array([False] * len(keys))
        for known in self._day(day):
            seen = pc.or_(seen, pc.is_in(keys, value_set=known))
        return seen

    def _learn(self, day: date | None, keys: pa.Array) -> None:
        if len(keys) == 0:
            return
        self._uncommitted.setdefault(day, []).append(keys)
        known = self._day(day)
        known.append(keys)
        if len(known) > 8:  # fewer, larger arrays keep is_in cheap
            merged = pa.concat_arrays(known)
            known.clear()
            known.append(merged)
