"""CloudTrail objects (gzip or plain JSON) into Arrow rows: the ingest hot path.

Objects are parsed in groups, in units of at most 4 MiB of records (a big file spans units and is
streamed, see `stream.py`, so memory stays bounded). msgspec splits each record into raw
top-level values (never materialised as Python values), as a struct when every field is known and
as a dict when some field is new (to rescue it); arrow-rs's JSON reader builds a unit's
typed columns in one call over its records as JSON lines; every other column is built once per
unit. Values that do not fit their typed column go to `_rescued_data` verbatim. When the reader
rejects a unit (a type surprise anywhere), a per-record path rebuilds clean input for that unit;
both paths give the same rows.
"""

from __future__ import annotations

import io
import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from isal import igzip

from trailhouse.errors import ObjectReadError
from trailhouse.ingest.spill import Spill
from trailhouse.ingest.stream import ENVELOPE, GZIP_MAGIC, open_stream
from trailhouse.ingest.validators import fits, list_decoder
from trailhouse.model.schema import RecordLayout, table_schema

_LEADING_SPACE = re.compile(rb"\s*")
_EVENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_MIB = 1024 * 1024

Records = list[dict[str, msgspec.Raw]]


_RECORD = msgspec.json.Decoder(dict[str, msgspec.Raw])
_KNOWN_RECORDS: dict[str, msgspec.json.Decoder[msgspec.Struct]] = {}


def _known_records(layout: RecordLayout) -> msgspec.json.Decoder[msgspec.Struct]:
    """Records whose every field is one of `layout`'s, as structs of raw values (absent: None).
    A struct is cheaper to decode and to read than a dict; any other field fails the decode. Raw
    values cannot form a cycle, so the structs stay out of the garbage collector's sight: tracked,
    the thousands decoded per unit set off collections (4% of ingest's CPU time)."""
    if layout.table not in _KNOWN_RECORDS:
        fields = [(name, msgspec.Raw, None) for name in sorted(layout.known_fields)]
        record = msgspec.defstruct(f"{layout.table}_record", fields, forbid_unknown_fields=True, gc=False)
        _KNOWN_RECORDS[layout.table] = msgspec.json.Decoder(record)
    return _KNOWN_RECORDS[layout.table]


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot become a row (not a JSON object), kept for the quarantine."""

    index: int
    reason: str
    raw: bytes


@dataclass(frozen=True)
class ParsedObject:
    """What one object held: records read, records rejected, or a skip. Its rows live in a group."""

    records: int = 0
    bad_records: tuple[BadRecord, ...] = ()
    skip_reason: str = ""
    uncompressed_bytes: int = 0
    fallback: bool = field(default=False, compare=False)  # the per-record path was needed


@dataclass(frozen=True)
class ParsedGroup:
    """Parsed objects: one table per destination, and per object its result and row range.

    A result is a ParsedObject or the reason the object cannot be read (to quarantine). Objects
    travel as row ranges of one table because Arrow pickles a slice with its whole buffers.
    """

    tables: dict[str, pa.Table]
    results: list[ParsedObject | str]
    ranges: list[tuple[str, int, int]]  # (table, first row, row count); ("", 0, 0) = no rows

    def rows_of(self, index: int) -> pa.Table | None:
        table, start, count = self.ranges[index]
        return self.tables[table].slice(start, count) if table else None


@dataclass(frozen=True)
class _Decoded:
    """One object after gunzip and splitting into raw records, before any column exists."""

    size: int
    records: list[msgspec.Raw]


_UNIT_BYTES = 4 * _MIB  # records parsed together: bounds memory whatever the file size
BIG_OBJECT_BYTES = 3 * _MIB // 2  # stored (a group); such an object is streamed, never gunzipped whole
_Unit = list[tuple[int, int, Sequence[msgspec.Raw]]]  # (object index, first record's position, records)


def decompress(data: bytes) -> bytes:
    """The object's JSON bytes: gunzipped (every member) when it is gzip, else as is."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        text: bytes = igzip.decompress(data)  # type: ignore[no-untyped-call]
        return text
    except (OSError, EOFError, ValueError) as error:
        raise ObjectReadError(f"not a readable gzip file: {error}") from None


def parse_object(
    data: bytes, layout: RecordLayout, source_object: str
) -> tuple[ParsedObject, pa.Table | None]:
    """Parse one object's bytes (gzip or not): its result and its rows."""
    group = parse_objects([(layout, source_object, data)])
    result = group.results[0]
    if isinstance(result, str):
        raise ObjectReadError(result)
    return result, group.rows_of(0)


_Items = Sequence[tuple[RecordLayout, str, bytes]]


class _Decoding:
    """A group gunzipped and split an object at a time, as its units are built: only the text of
    the object being split is held, never the whole group's. Per object: its failure or skip, or
    its record count and size.

    A big object of the usual shape is not gunzipped whole: it is streamed as its units are parsed.
    """

    def __init__(self, items: _Items, stream_from: int) -> None:
        self.items = items
        self.stream_from = stream_from
        self.results: list[ParsedObject | str] = [""] * len(items)
        self.read: dict[int, tuple[int, int]] = {}  # objects with a Records list: (records, bytes)
        self.order = _in_unit_order(items)
        self.rows_per_object = dict.fromkeys(self.order, 0)
        self.bad: dict[int, list[BadRecord]] = {index: [] for index in self.order}
        self.fallback: set[int] = set()

    def unit_tables(self) -> Iterator[tuple[str, pa.Table]]:
        """Each unit's rows, in table order: (table name, rows)."""
        for layout, unit in self._units():
            table, used_fallback = _unit_rows(layout, unit, self.items, self.bad, self.rows_per_object)
            if used_fallback:
                self.fallback.update(index for index, _, _ in unit)
            yield layout.table, table

    def _units(self) -> Iterator[tuple[RecordLayout, _Unit]]:
        """Records in runs of at most _UNIT_BYTES per layout, objects in order (a big one spans runs)."""
        unit: _Unit = []
        size = 0
        for n, index in enumerate(self.order):
            layout, _, data = self.items[index]
            stream = open_stream(data) if len(data) >= self.stream_from else None
            if stream is not None:
                if unit:
                    yield layout, unit
                    unit, size = [], 0
                first = 0
                for batch in stream.batches(_UNIT_BYTES):
                    yield layout, [(index, first, batch)]
                    first += len(batch)
                self.read[index] = (stream.count, stream.size)
                continue
            records = self._records(index)
            start = 0
            for position, raw in enumerate(records):
                size += len(raw)
                if size >= _UNIT_BYTES:
                    unit.append((index, start, records[start : position + 1]))
                    yield layout, unit
                    unit, size, start = [], 0, position + 1
            if start < len(records):
                unit.append((index, start, records[start:]))
            del records  # the object's text goes with its last unit
            last_of_layout = (
                n + 1 == len(self.order) or self.items[self.order[n + 1]][0].table != layout.table
            )
            if unit and last_of_layout:
                yield layout, unit
                unit, size = [], 0

    def _records(self, index: int) -> list[msgspec.Raw]:
        """The object's raw records; none when it cannot be read or is skipped (its result says)."""
        try:
            outcome = _decode(self.items[index][2])
        except ObjectReadError as error:
            self.results[index] = str(error)
            return []
        if isinstance(outcome, ParsedObject):
            self.results[index] = outcome
            return []
        self.read[index] = (len(outcome.records), outcome.size)
        return outcome.records

    def group(self, tables: dict[str, pa.Table]) -> ParsedGroup:
        """The group's results and row ranges, once every unit was parsed."""
        results = list(self.results)
        ranges: list[tuple[str, int, int]] = [("", 0, 0)] * len(self.items)
        starts: dict[str, int] = {}
        for index in self.order:
            if index not in self.read:  # failed or skipped: its result is set
                continue
            table = self.items[index][0].table
            start, count = starts.get(table, 0), self.rows_per_object[index]
            ranges[index] = (table, start, count) if count else ("", 0, 0)
            starts[table] = start + count
            records, size = self.read[index]
            results[index] = ParsedObject(
                records=records,
                bad_records=tuple(self.bad[index]),
                uncompressed_bytes=size,
                fallback=index in self.fallback,
            )
        return ParsedGroup(tables, results, ranges)


def parse_objects(
    items: _Items,
    *,
    columns: Sequence[str] | None = None,
    stream_from: int = BIG_OBJECT_BYTES,
    spill: Spill | None = None,
) -> ParsedGroup:
    """Parse (layout, source_object, bytes) objects as one group, in units of bounded size.

    With `columns`, each unit keeps only those columns, and its whole rows go to `spill` if one
    is given. Objects of `stream_from` stored bytes or more are streamed.
    """
    decoding = _Decoding(items, stream_from)
    parts: dict[str, list[pa.Table]] = {}
    for name, table in decoding.unit_tables():
        if spill is not None:
            spill.put(name, table)
        parts.setdefault(name, []).append(table if columns is None else _copied(table.select(columns)))
    return decoding.group({name: pa.concat_tables(p) if len(p) > 1 else p[0] for name, p in parts.items()})


def _copied(table: pa.Table) -> pa.Table:
    """`table` in buffers of its own: a column arrow-rs read keeps its whole batch in memory."""
    return pa.table([pa.concat_arrays(column.chunks) for column in table.columns], schema=table.schema)


def _in_unit_order(items: _Items) -> list[int]:
    """Object indexes grouped by layout, in order: the order their rows take in the tables."""
    tables = list(dict.fromkeys(layout.table for layout, _, _ in items))
    return [index for table in tables for index, (layout, _, _) in enumerate(items) if layout.table == table]


def _unit_rows(
    layout: RecordLayout,
    unit: _Unit,
    items: _Items,
    bad: dict[int, list[BadRecord]],
    rows_per_object: dict[int, int],
) -> tuple[pa.Table, bool]:
    records, lines, owners, counts = _decode_unit(layout, unit, bad)
    for index, count in zip(owners, counts, strict=True):
        rows_per_object[index] += count
    run_ends = pa.array(list(itertools.accumulate(counts)), pa.int32())
    names = pa.array([items[i][1] for i in owners], pa.string())
    sources = (
        pc.run_end_decode(pa.RunEndEncodedArray.from_arrays(run_ends, names))
        if records
        else names.slice(0, 0)
    )
    return _rows(_typed_fast(lines, len(records), layout), records, layout, sources)


def _decode_unit(
    layout: RecordLayout, unit: _Unit, bad: dict[int, list[BadRecord]]
) -> tuple[list[Any], bytes, list[int], list[int]]:
    """The unit's records as their top-level raw values, the records kept as JSON lines (both
    parsers read that one buffer), and per object with records its index and count. Usually one
    call gives structs (every record an object of known fields); otherwise dicts, record by record
    where some record is not an object."""
    chunks = [(index, chunk) for index, _, chunk in unit if chunk]
    lines = b"\n".join(itertools.chain.from_iterable(chunk for _, chunk in chunks))
    try:
        structs = _known_records(layout).decode_lines(lines)
        return structs, lines, [index for index, _ in chunks], [len(chunk) for _, chunk in chunks]
    except msgspec.ValidationError:
        pass
    records: Records = []
    raws: list[msgspec.Raw] = []
    owners: list[int] = []
    counts: list[int] = []
    for index, start, chunk in unit:
        try:  # one call for the slice; record by record only when some record is not an object
            parsed = _RECORD.decode_lines(b"\n".join(chunk))
            kept = chunk
        except msgspec.ValidationError:
            parsed, kept = [], []
            for position, raw in enumerate(chunk, start):
                try:
                    parsed.append(_RECORD.decode(raw))
                    kept.append(raw)
                except msgspec.ValidationError:
                    bad[index].append(BadRecord(position, "record is not a JSON object", bytes(raw)))
        if parsed:  # run ends must increase strictly
            records += parsed
            raws += kept
            owners.append(index)
            counts.append(len(parsed))
    return records, b"\n".join(raws), owners, counts


def _decode(data: bytes) -> _Decoded | ParsedObject:
    text = decompress(data)
    start = _LEADING_SPACE.match(text)
    first = text[start.end() : start.end() + 1] if start else b""
    size = len(text)
    if not first:
        return ParsedObject(skip_reason="empty file", uncompressed_bytes=size)
    if first == b"[":
        reason = 'a JSON array, not a CloudTrail log file ({"Records": [...]})'
        return ParsedObject(skip_reason=reason, uncompressed_bytes=size)
    if first != b"{":
        raise ObjectReadError(f"not JSON: the content starts with {first!r}")
    try:
        records = ENVELOPE.decode(text).Records
    except msgspec.ValidationError:
        records = None
    except msgspec.DecodeError as error:
        raise ObjectReadError(f"not valid JSON: {error}") from None
    if records is None:
        reason = 'a JSON object without a "Records" list, not a CloudTrail log file'
        return ParsedObject(skip_reason=reason, uncompressed_bytes=size)
    return _Decoded(size, records)


def _read_schema(layout: RecordLayout) -> pa.Schema:
    """The typed fields as the JSON reader reads them: eventTime as text, converted afterwards."""
    return pa.schema([pa.field(f.name, pa.string()) if f.name == "eventTime" else f for f in layout.typed])


def _typed_fast(lines: bytes, count: int, layout: RecordLayout) -> pa.Table | None:
    """The typed columns of `count` records, from one JSON reader call over them."""
    schema = _read_schema(layout)
    if not count:
        return schema.empty_table()
    try:
        table = _read_lines(lines, schema, count)
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == count else None


def _read_lines(lines: bytes, schema: pa.Schema, count: int) -> pa.Table:
    """arrow-rs's JSON reader (through arro3) over `count` JSON objects one after another, pretty-
    printed or not, in one batch. Keys not in `schema` are ignored at every depth; a value of
    another type fails the call (ArrowInvalid); of a repeated key the last counts."""
    import arro3.io  # here, not at the top: a process loads it (7 MiB) only if it parses

    return pa.table(arro3.io.read_json(io.BytesIO(lines), schema, batch_size=count))


def _rows(
    typed: pa.Table | None, records: list[Any], layout: RecordLayout, sources: pa.Array
) -> tuple[pa.Table, bool]:
    rescue: dict[int, dict[str, msgspec.Raw]] = {}
    known = layout.known_fields
    structs = bool(records) and not isinstance(records[0], dict)  # no unknown top-level field
    if not structs:
        for index, record in enumerate(records):
            if not known.issuperset(record):
                rescue[index] = {k: v for k, v in record.items() if k not in known}
    # Each raw block of every record, a column at a time: map runs in C and builds no tuple per
    # record (a tracked object; thousands per unit set off the garbage collector).
    blocks = [f.name for f in layout.typed if pa.types.is_nested(f.type)]
    names = (*blocks, *layout.json_text)
    if structs:
        raw_columns = {name: list(map(operator.attrgetter(name), records)) for name in names}
    else:
        raw_columns = {name: list(map(dict.get, records, itertools.repeat(name))) for name in names}
    fallback = typed is None
    if typed is None:
        if structs:  # the per-record path reads fields by name
            records = [{k: v for k, v in msgspec.structs.asdict(r).items() if v is not None} for r in records]
        typed = _typed_fallback(records, layout, rescue)
    else:
        _rescue_unknown_nested(raw_columns, layout, rescue)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    event_time = _event_times(typed.column("eventTime"), rescue)
    columns["event_date"] = pc.cast(event_time, pa.date32())
    for name in layout.typed.names:
        columns[name] = event_time if name == "eventTime" else typed.column(name)
    for name in layout.json_text:
        columns[name] = _json_text(raw_columns.get(name, ()), len(records))
    columns["_rescued_data"] = _rescue_column(rescue, len(records))
    columns["source_object"] = sources
    schema = table_schema(layout)
    return pa.table([columns[name] for name in schema.names], schema=schema), fallback


def _rescue_unknown_nested(
    raw_columns: dict[str, list[msgspec.Raw | None]],
    layout: RecordLayout,
    rescue: dict[int, dict[str, msgspec.Raw]],
) -> None:
    """Keep struct blocks verbatim where they hold keys the typed column does not (pyarrow drops them)."""
    for column in layout.typed:
        raws = raw_columns.get(column.name)
        if not raws:
            continue
        # Blocks repeat (one principal's userIdentity in call after call): check each text once.
        distinct = {bytes(raw) for raw in raws if raw is not None}
        if not distinct:
            continue
        try:
            list_decoder(column).decode(b"[" + b",".join(distinct) + b"]")
            continue
        except msgspec.ValidationError:
            pass
        for index, raw in enumerate(raws):
            if raw is not None and not fits(column, raw, strict=True):
                rescue.setdefault(index, {})[column.name] = raw


def _typed_fallback(
    records: Records, layout: RecordLayout, rescue: dict[int, dict[str, msgspec.Raw]]
) -> pa.Table:
    """Per record: keep the typed values that fit, rescue the rest, then parse the clean lines."""
    schema = _read_schema(layout)
    fields = {f.name: f for f in schema}
    lines = []
    for index, record in enumerate(records):
        parts = []
        for name, raw in record.items():
            column = fields.get(name)
            if column is None:
                continue
            if fits(column, raw, strict=False):
                parts.append(msgspec.json.encode(name) + b":" + bytes(raw))
                if not fits(column, raw, strict=True):
                    rescue.setdefault(index, {})[name] = raw
            else:
                rescue.setdefault(index, {})[name] = raw
        lines.append(b"{" + b",".join(parts) + b"}")
    if not lines:
        return schema.empty_table()
    return _read_lines(b"\n".join(lines), schema, len(lines))


def _event_times(text: pa.ChunkedArray | pa.Array, rescue: dict[int, dict[str, msgspec.Raw]]) -> pa.Array:
    """eventTime as a UTC timestamp; a value in any other form is parsed leniently and rescued."""
    strings = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    parsed = pc.strptime(strings, format=_EVENT_TIME_FORMAT, unit="us", error_is_null=True)
    odd = pc.and_(strings.is_valid(), parsed.is_null())
    if not pc.any(odd).as_py():
        return parsed.cast(pa.timestamp("us", tz="UTC"))
    values = parsed.to_pylist()
    for index in pc.indices_nonzero(odd).to_pylist():
        original = strings[index].as_py()
        rescue.setdefault(index, {})["eventTime"] = msgspec.Raw(msgspec.json.encode(original))
        values[index] = _lenient_time(original)
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def _lenient_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _json_text(raws: Sequence[msgspec.Raw | None], count: int) -> pa.Array:
    """Raw JSON values as text; a JSON null counts as absent. Built from one joined buffer and its
    offsets, not a bytes object per value; the cast to text checks the UTF-8."""
    if not raws:
        return pa.nulls(count, pa.string())
    present = [b"" if raw is None else raw for raw in raws]  # a JSON value is never empty
    offsets = np.zeros(count + 1, np.int64)
    np.cumsum(np.fromiter(map(len, present), np.int64, count), out=offsets[1:])
    data = pa.py_buffer(b"".join(present))
    binary = pa.LargeBinaryArray.from_buffers(pa.large_binary(), count, [None, pa.py_buffer(offsets), data])
    absent = pc.or_(pc.equal(pc.binary_length(binary), 0), pc.equal(binary, pa.scalar(b"null", binary.type)))
    return pc.if_else(absent, pa.scalar(None, binary.type), binary).cast(pa.string())


def _rescue_column(rescue: dict[int, dict[str, msgspec.Raw]], count: int) -> pa.Array:
    if not rescue:
        return pa.nulls(count, pa.string())
    values: list[bytes | None] = [None] * count
    for index, fields in rescue.items():
        parts = [msgspec.json.encode(name) + b":" + bytes(raw) for name, raw in fields.items()]
        values[index] = b"{" + b",".join(parts) + b"}"
    return pa.array(values, pa.binary()).cast(pa.string())
