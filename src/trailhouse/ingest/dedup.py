"""Which events the lake already holds, by (recipientAccountId, eventID), one UTC day at a time.

Two copies of one event (an organisation trail and an account trail both deliver it) carry the
same eventTime, so they fall on the same `event_date`. The index loads a day's keys from the lake
once (two columns of one partition), keeps the two most recent days (sources meet days in order;
a delivery just after midnight still holds the day before), and learns every key it accepts, so
each batch is checked without rescanning partitions. Records without an eventID are always kept.

A day's keys are held compactly and exactly. The usual key (a 12-digit account, a lowercase UUID)
is three integers (account, UUID high and low halves) in arrays sorted by the high half: 24 bytes
a key where a Python set of "account/eventID" strings took ~110 (a million-event day: ~25 MiB
instead of ~110), checked by binary search a batch at a time. Any other key stays text, in a set.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from trailhouse.model.schema import EVENT_KEY

if TYPE_CHECKING:
    from trailhouse.lake import Lake


_HEX = np.full(256, 255, np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)
_UUID_HEX_AT = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_DIGIT_WEIGHTS = 10 ** np.arange(11, -1, -1, dtype=np.uint64)
_MERGE_AT = 32_768  # keys in the small sorted run before it joins the big one
_NO_DAY = -(2**31)  # event_date of records without an eventTime


def _fixed_width(column: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose text is exactly `width` bytes (mask), and those rows' bytes as an (n, width) array."""
    lengths = pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    fits = lengths == width
    chosen = column.filter(pa.array(fits))
    if not len(chosen):
        return fits, np.empty((0, width), np.uint8)
    offsets = np.frombuffer(chosen.buffers()[1], np.int32, len(chosen) + 1, chosen.offset * 4)
    data = np.frombuffer(chosen.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return fits, data.reshape(-1, width)


class _CanonicalKeys:
    """Per row: whether the key is canonical, and then its (account, high, low) integers."""

    def __init__(self, accounts: pa.Array, event_ids: pa.Array) -> None:
        account_ok, account_bytes = _fixed_width(accounts, 12)
        uuid_ok, uuid_bytes = _fixed_width(event_ids, 36)
        digits = np.zeros((len(accounts), 12), np.uint8)
        digits[account_ok] = account_bytes - ord("0")
        text = np.zeros((len(event_ids), 36), np.uint8)
        text[uuid_ok] = uuid_bytes
        nibbles = _HEX[text[:, _UUID_HEX_AT]]
        dashes = (text[:, [8, 13, 18, 23]] == ord("-")).all(axis=1)
        self.ok = account_ok & uuid_ok & dashes & (digits <= 9).all(axis=1) & (nibbles < 16).all(axis=1)
        packed = (nibbles[:, 0::2] << 4 | nibbles[:, 1::2]).astype(np.uint8)
        halves = np.ascontiguousarray(packed).view(">u8").astype(np.uint64)
        self.account = digits.astype(np.uint64) @ _DIGIT_WEIGHTS
        self.high = halves[:, 0]
        self.low = halves[:, 1]


class _Triples(NamedTuple):
    """Canonical keys as three integer arrays of equal length."""

    account: np.ndarray
    high: np.ndarray
    low: np.ndarray

    @staticmethod
    def of(keys: _CanonicalKeys, rows: np.ndarray) -> _Triples:
        return _Triples(keys.account[rows], keys.high[rows], keys.low[rows])


_EMPTY = _Triples(np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, np.uint64))


class _SortedKeys:
    """Distinct canonical keys in three arrays sorted by the UUID's high half."""

    def __init__(self) -> None:
        self.keys = _EMPTY

    def __len__(self) -> int:
        return len(self.keys.high)

    def find(self, wanted: _Triples) -> np.ndarray:
        """Per wanted key: is it here."""
        account, high, low = self.keys
        found = np.zeros(len(wanted.high), bool)
        if not len(high) or not len(wanted.high):
            return found
        at = np.searchsorted(high, wanted.high)
        while True:  # one UUID half may repeat (one event in two accounts): walk equal highs
            clipped = np.minimum(at, len(high) - 1)
            same_high = (at < len(high)) & (high[clipped] == wanted.high)
            found |= same_high & (account[clipped] == wanted.account) & (low[clipped] == wanted.low)
            if not (same_high & ~found).any():
                return found
            at = np.where(same_high & ~found, at + 1, len(high))

    def insert(self, added: _Triples) -> None:
        """Add keys not here yet (a merge: linear in the size)."""
        if not len(added.high):
            return
        order = np.argsort(added.high, kind="stable")
        at = np.searchsorted(self.keys.high, added.high[order])
        self.keys = _Triples(
            *(np.insert(old, at, new[order]) for old, new in zip(self.keys, added, strict=True))
        )


class _DayKeys:
    """The keys of one day: exact membership, learning as it answers.

    New keys join a small sorted run first, which joins the big one now and then, so a batch costs
    two binary searches and a small insert rather than a copy of the day's arrays.
    """

    def __init__(self) -> None:
        self.big = _SortedKeys()
        self.small = _SortedKeys()
        self.text: set[bytes] = set()  # keys not in the canonical form

    def learn(self, triples: _Triples) -> np.ndarray:
        """Per key: new (and now remembered), or already known or earlier in `triples`."""
        fresh: np.ndarray = ~self.big.find(triples) & ~self.small.find(triples)
        order = np.lexsort((triples.low, triples.account, triples.high))  # stable: first copy first
        ordered = np.stack([t[order] for t in triples])
        repeat = np.zeros(len(order), bool)
        repeat[1:] = (ordered[:, 1:] == ordered[:, :-1]).all(axis=0)
        fresh[order[repeat]] = False
        self.small.insert(_Triples(*(t[fresh] for t in triples)))
        if len(self.small) >= _MERGE_AT:
            self.big.insert(self.small.keys)
            self.small = _SortedKeys()
        return fresh

    def add_known(self, accounts: pa.Array, event_ids: pa.Array) -> None:
        """Learn keys known to be distinct (the lake's own)."""
        keys = _CanonicalKeys(accounts, event_ids)
        self.text.update(_text_keys(accounts, event_ids, ~keys.ok))
        self.big.insert(_Triples.of(keys, np.flatnonzero(keys.ok)))


def _text_keys(accounts: pa.Array, event_ids: pa.Array, rows: np.ndarray) -> list[bytes]:
    """account/eventID as bytes for the chosen rows that have an eventID."""
    if not rows.any():
        return []
    chosen = pa.array(rows & event_ids.is_valid().to_numpy(zero_copy_only=False))
    account = pc.fill_null(accounts.filter(chosen), "")
    joined = pc.binary_join_element_wise(account, event_ids.filter(chosen), "/")
    return pc.cast(joined, pa.binary()).to_pylist()  # type: ignore[no-any-return]


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


@dataclass
class _Journal:
    """Keys accepted since the last commit, in the order learnt."""

    triples: list[_Triples] = field(default_factory=list)
    text: set[bytes] = field(default_factory=set)


class DedupIndex:
    """Event keys already stored, per day, for the tables that carry eventID."""

    def __init__(self, lake: Lake, table: str, *, days_kept: int = 2) -> None:
        self.lake = lake
        self.table = table
        self.days_kept = days_kept
        self._days: OrderedDict[int | None, _DayKeys] = OrderedDict()
        # Keys accepted since the last commit: not in the lake yet, so a day reloaded keeps them.
        self._uncommitted: dict[int | None, _Journal] = {}

    def _day(self, day: int | None) -> _DayKeys:
        known = self._days.get(day)
        if known is not None:
            self._days.move_to_end(day)
            return known
        if day is None:
            where = ds.field("event_date").is_null()
        else:
            where = ds.field("event_date") == pa.scalar(day, pa.int32()).cast(pa.date32())
        known = _DayKeys()
        stored = self.lake.read(self.table, columns=list(EVENT_KEY), filter=where)
        if stored is not None:
            known.add_known(_column(stored, EVENT_KEY[0]), _column(stored, EVENT_KEY[1]))
        pending = self._uncommitted.get(day)
        if pending is not None:
            for triples in pending.triples:
                known.big.insert(triples)
            known.text.update(pending.text)
        self._days[day] = known
        while len(self._days) > self.days_kept:
            self._days.popitem(last=False)
        return known

    def committed(self) -> None:
        """Everything accepted so far is now in the lake (reloads will find it)."""
        self._uncommitted.clear()

    def new_mask(self, rows: pa.Table) -> list[bool]:
        """True for each row not yet stored nor seen earlier in this run (and learns it)."""
        if not rows.num_rows:
            return []
        mask = np.ones(rows.num_rows, bool)
        accounts = pc.fill_null(_column(rows, EVENT_KEY[0]), "")
        event_ids = _column(rows, EVENT_KEY[1])
        keys = _CanonicalKeys(accounts, event_ids)
        days = pc.fill_null(pc.cast(_column(rows, "event_date"), pa.int32()), _NO_DAY)
        day_values = days.to_numpy(zero_copy_only=False)
        has_id = event_ids.is_valid().to_numpy(zero_copy_only=False)
        for value in np.unique(day_values[has_id]).tolist():
            day = None if value == _NO_DAY else value
            in_day = has_id & (day_values == value)
            known, pending = self._day(day), self._uncommitted.setdefault(day, _Journal())
            canonical = np.flatnonzero(in_day & keys.ok)
            mask[canonical] = known.learn(_Triples.of(keys, canonical))
            pending.triples.append(_Triples.of(keys, canonical[mask[canonical]]))
            other = in_day & ~keys.ok  # rows of this day all have an eventID
            texts = _text_keys(accounts, event_ids, other)
            for row, text in zip(np.flatnonzero(other).tolist(), texts, strict=True):
                mask[row] = text not in known.text
                known.text.add(text)
                pending.text.add(text)
        return mask.tolist()  # type: ignore[no-any-return]
