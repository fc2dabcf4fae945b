"""CloudTrail objects (gzip or plain JSON) into Arrow rows: the ingest hot path.

Objects are parsed in groups. msgspec splits each file into records of raw top-level values
(never materialised as Python values); pyarrow's C++ JSON reader builds the typed columns of all
compact files of a group in one call; every other column is built once per group. Values that
do not fit their typed column go to `_rescued_data` verbatim. When pyarrow rejects a file (a type
surprise anywhere), a per-record path rebuilds clean input for that file alone; both paths give
the same rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from isal import igzip

from trailhouse.errors import ObjectReadError
from trailhouse.ingest.validators import fits, list_decoder
from trailhouse.model.schema import RecordLayout, table_schema

_GZIP_MAGIC = b"\x1f\x8b"
_LEADING_SPACE = re.compile(rb"\s*")
_EVENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_MIB = 1024 * 1024

Records = list[dict[str, msgspec.Raw]]


class _Envelope(msgspec.Struct):
    Records: Records | None = None


class _LooseEnvelope(msgspec.Struct):
    Records: list[msgspec.Raw] | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_LOOSE_ENVELOPE = msgspec.json.Decoder(_LooseEnvelope)
_RECORD = msgspec.json.Decoder(dict[str, msgspec.Raw])


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
    """One object after gunzip and record splitting, before its typed columns exist."""

    text: bytes
    records: Records
    bad: list[BadRecord]

    @property
    def joinable(self) -> bool:
        """Compact JSON (as CloudTrail writes it) can share one pyarrow call with other files."""
        if self.bad:
            return False
        newlines = self.text.count(b"\n")
        return newlines == 0 or (newlines == 1 and self.text.endswith(b"\n"))


def decompress(data: bytes) -> bytes:
    """The object's JSON bytes: gunzipped (every member) when it is gzip, else as is."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return igzip.decompress(data)
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


def parse_objects(items: Sequence[tuple[RecordLayout, str, bytes]]) -> ParsedGroup:
    """Parse (layout, source_object, bytes) objects as one group."""
    results: list[ParsedObject | str] = [""] * len(items)
    ranges: list[tuple[str, int, int]] = [("", 0, 0)] * len(items)
    decoded: dict[int, _Decoded] = {}
    for index, (_, _, data) in enumerate(items):
        try:
            outcome = _decode(data)
        except ObjectReadError as error:
            results[index] = str(error)
            continue
        if isinstance(outcome, ParsedObject):
            results[index] = outcome
        else:
            decoded[index] = outcome
    parts: dict[str, list[pa.Table]] = {}
    sizes: dict[str, int] = {}
    for indexes, typed in _units(items, decoded):
        layout = items[indexes[0]][0]
        records: Records = []
        sources: list[str] = []
        for i in indexes:
            records += decoded[i].records
            sources.append(items[i][1])
        counts = [len(decoded[i].records) for i in indexes]
        rows, fallback = _rows(typed, records, layout, _repeat(sources, counts))
        start = sizes.get(layout.table, 0)
        parts.setdefault(layout.table, []).append(rows)
        sizes[layout.table] = start + rows.num_rows
        for i, count in zip(indexes, counts, strict=True):
            item = decoded[i]
            results[i] = ParsedObject(
                records=count + len(item.bad),
                bad_records=tuple(item.bad),
                uncompressed_bytes=len(item.text),
                fallback=fallback,
            )
            ranges[i] = (layout.table, start, count)
            start += count
    tables = {name: pa.concat_tables(p) if len(p) > 1 else p[0] for name, p in parts.items()}
    return ParsedGroup(tables, results, ranges)


def _repeat(values: list[str], counts: list[int]) -> pa.Array:
    if len(values) == 1:
        return pa.repeat(pa.scalar(values[0]), counts[0])
    indices = pa.array([i for i, count in enumerate(counts) for _ in range(count)], pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(values)).cast(pa.string())


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
    records, bad = _split_records(text)
    if records is None:
        reason = 'a JSON object without a "Records" list, not a CloudTrail log file'
        return ParsedObject(skip_reason=reason, uncompressed_bytes=size)
    return _Decoded(text, records, bad)


def _split_records(text: bytes) -> tuple[Records | None, list[BadRecord]]:
    """Each record as {top-level key: raw JSON}; records that are not objects set apart."""
    try:
        return _ENVELOPE.decode(text).Records, []
    except msgspec.ValidationError:
        pass  # some record is not an object, or Records is not a list
    except msgspec.DecodeError as error:
        raise ObjectReadError(f"not valid JSON: {error}") from None
    try:
        loose = _LOOSE_ENVELOPE.decode(text).Records
    except msgspec.ValidationError:
        return None, []
    if loose is None:
        return None, []
    records: Records = []
    bad: list[BadRecord] = []
    for index, raw in enumerate(loose):
        try:
            records.append(_RECORD.decode(raw))
        except msgspec.ValidationError:
            bad.append(BadRecord(index, "record is not a JSON object", bytes(raw)))
    return records, bad


def _units(
    items: Sequence[tuple[RecordLayout, str, bytes]], decoded: dict[int, _Decoded]
) -> list[tuple[list[int], pa.Table | None]]:
    """Objects that share one typed table (one pyarrow call), per layout; None = per-record path."""
    by_layout: dict[str, list[int]] = {}
    for index in decoded:
        by_layout.setdefault(items[index][0].table, []).append(index)
    units: list[tuple[list[int], pa.Table | None]] = []
    for indexes in by_layout.values():
        layout = items[indexes[0]][0]
        joinable = [i for i in indexes if decoded[i].joinable]
        alone = [i for i in indexes if not decoded[i].joinable]
        joined = _typed_fast([decoded[i].text for i in joinable], layout)
        if joined is not None and joined[1] == [len(decoded[i].records) for i in joinable]:
            if joinable:
                units.append((joinable, joined[0]))
        else:  # some file surprised pyarrow: read each on its own
            alone += joinable
        for i in sorted(alone):
            single = None if decoded[i].bad else _typed_fast([decoded[i].text], layout)
            fits_count = single is not None and single[1] == [len(decoded[i].records)]
            units.append(([i], single[0] if single is not None and fits_count else None))
    return units


def _read_schema(layout: RecordLayout) -> pa.Schema:
    """The typed fields as pyarrow.json reads them: eventTime as text, converted afterwards."""
    return pa.schema([pa.field(f.name, pa.string()) if f.name == "eventTime" else f for f in layout.typed])


def _typed_fast(texts: list[bytes], layout: RecordLayout) -> tuple[pa.Table, list[int]] | None:
    """The typed columns of the files' records (and records per file), from one pyarrow call."""
    if not texts:
        return _read_schema(layout).empty_table(), []
    body = texts[0] if len(texts) == 1 else b"\n".join(texts)
    envelope = pa.schema([pa.field("Records", pa.list_(pa.struct(list(_read_schema(layout)))))])
    try:
        table = pj.read_json(
            io.BytesIO(body),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, _MIB)),
            parse_options=pj.ParseOptions(
                explicit_schema=envelope,
                unexpected_field_behavior="ignore",
                newlines_in_values=len(texts) == 1,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != len(texts):
        return None
    lists = table.column("Records").combine_chunks()
    counts = pc.list_value_length(lists).fill_null(0).to_pylist()
    return pa.Table.from_struct_array(lists.flatten()), counts


def _rows(
    typed: pa.Table | None, records: Records, layout: RecordLayout, sources: pa.Array
) -> tuple[pa.Table, bool]:
    rescue: dict[int, dict[str, msgspec.Raw]] = {}
    known = layout.known_fields
    for index, record in enumerate(records):
        if not known.issuperset(record):
            rescue[index] = {k: v for k, v in record.items() if k not in known}
    fallback = typed is None
    if typed is None:
        typed = _typed_fallback(records, layout, rescue)
    else:
        _rescue_unknown_nested(records, layout, rescue)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    event_time = _event_times(typed.column("eventTime"), rescue)
    columns["event_date"] = pc.cast(event_time, pa.date32())
    for name in layout.typed.names:
        columns[name] = event_time if name == "eventTime" else typed.column(name)
    for name in layout.json_text:
        columns[name] = _json_text([record.get(name) for record in records])
    columns["_rescued_data"] = _rescue_column(rescue, len(records))
    columns["source_object"] = sources
    schema = table_schema(layout)
    return pa.table([columns[name] for name in schema.names], schema=schema), fallback


def _rescue_unknown_nested(
    records: Records, layout: RecordLayout, rescue: dict[int, dict[str, msgspec.Raw]]
) -> None:
    """Keep struct blocks verbatim where they hold keys the typed column does not (pyarrow drops them).

    Blocks repeat (one identity makes many calls), so each distinct block is checked once.
    """
    for column in layout.typed:
        if not (pa.types.is_struct(column.type) or pa.types.is_list(column.type)):
            continue
        blocks = [
            None if raw is None else bytes(raw) for raw in (record.get(column.name) for record in records)
        ]
        distinct = {block for block in blocks if block is not None}
        if not distinct:
            continue
        try:
            list_decoder(column).decode(b"[" + b",".join(distinct) + b"]")
            continue
        except msgspec.ValidationError:
            pass
        misfits = {block for block in distinct if not fits(column, block, strict=True)}
        for index, block in enumerate(blocks):
            if block in misfits:
                rescue.setdefault(index, {})[column.name] = msgspec.Raw(block)


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
    body = b"\n".join(lines)
    return pj.read_json(
        io.BytesIO(body),
        read_options=pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, _MIB)),
        parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=True
        ),
    )


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


def _json_text(raws: list[msgspec.Raw | None]) -> pa.Array:
    """Raw JSON values as text; a JSON null counts as absent."""
    values = [None if raw is None else bytes(raw) for raw in raws]
    binary = pa.array(values, pa.binary())
    is_null = pc.equal(binary, pa.scalar(b"null", pa.binary()))
    return pc.if_else(is_null, pa.scalar(None, pa.binary()), binary).cast(pa.string())


def _rescue_column(rescue: dict[int, dict[str, msgspec.Raw]], count: int) -> pa.Array:
    if not rescue:
        return pa.nulls(count, pa.string())
    values: list[bytes | None] = [None] * count
    for index, fields in rescue.items():
        parts = [msgspec.json.encode(name) + b":" + bytes(raw) for name, raw in fields.items()]
        values[index] = b"{" + b",".join(parts) + b"}"
    return pa.array(values, pa.binary()).cast(pa.string())
