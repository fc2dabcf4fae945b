"""One CloudTrail object (gzip or plain JSON) into Arrow rows: the ingest hot path.

Typed columns come from pyarrow's C++ JSON reader over the whole file; the polymorphic blocks and
unknown keys are sliced out as raw bytes by msgspec (never materialised as Python values). Values
that do not fit their typed column go to `_rescued_data` verbatim. When pyarrow rejects a file
(a type surprise anywhere), a per-record path rebuilds clean input for it; both paths give the
same rows.
"""

from __future__ import annotations

import io
import re
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


class _Envelope(msgspec.Struct):
    Records: list[dict[str, msgspec.Raw]] | None = None


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
    """What one object held: rows for its table, records read, records rejected, or a skip."""

    rows: pa.Table | None
    records: int = 0
    bad_records: tuple[BadRecord, ...] = ()
    skip_reason: str = ""
    uncompressed_bytes: int = 0
    fallback: bool = field(default=False, compare=False)  # the per-record path was needed


def decompress(data: bytes) -> bytes:
    """The object's JSON bytes: gunzipped (every member) when it is gzip, else as is."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return igzip.decompress(data)
    except (OSError, EOFError, ValueError) as error:
        raise ObjectReadError(f"not a readable gzip file: {error}") from None


def parse_object(data: bytes, layout: RecordLayout, source_object: str) -> ParsedObject:
    """Parse one object's bytes (gzip or not) into rows of `layout`'s table."""
    text = decompress(data)
    start = _LEADING_SPACE.match(text)
    first = text[start.end() : start.end() + 1] if start else b""
    size = len(text)
    if not first:
        return ParsedObject(None, skip_reason="empty file", uncompressed_bytes=size)
    if first == b"[":
        return ParsedObject(
            None,
            skip_reason='a JSON array, not a CloudTrail log file ({"Records": [...]})',
            uncompressed_bytes=size,
        )
    if first != b"{":
        raise ObjectReadError(f"not JSON: the content starts with {first!r}")
    records, bad = _split_records(text)
    if records is None:
        return ParsedObject(
            None,
            skip_reason='a JSON object without a "Records" list, not a CloudTrail log file',
            uncompressed_bytes=size,
        )
    rows, fallback = _rows(text if not bad else None, records, layout, source_object)
    return ParsedObject(
        rows,
        records=len(records) + len(bad),
        bad_records=tuple(bad),
        uncompressed_bytes=size,
        fallback=fallback,
    )


def _split_records(text: bytes) -> tuple[list[dict[str, msgspec.Raw]] | None, list[BadRecord]]:
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
    records: list[dict[str, msgspec.Raw]] = []
    bad: list[BadRecord] = []
    for index, raw in enumerate(loose):
        try:
            records.append(_RECORD.decode(raw))
        except msgspec.ValidationError:
            bad.append(BadRecord(index, "record is not a JSON object", bytes(raw)))
    return records, bad


def _read_schema(layout: RecordLayout) -> pa.Schema:
    """The typed fields as pyarrow.json reads them: eventTime as text, converted afterwards."""
    return pa.schema([pa.field(f.name, pa.string()) if f.name == "eventTime" else f for f in layout.typed])


def _rows(
    text: bytes | None,
    records: list[dict[str, msgspec.Raw]],
    layout: RecordLayout,
    source_object: str,
) -> tuple[pa.Table, bool]:
    rescue: dict[int, dict[str, msgspec.Raw]] = {}
    known = layout.known_fields
    for index, record in enumerate(records):
        if not known.issuperset(record):
            rescue[index] = {k: v for k, v in record.items() if k not in known}
    typed = _typed_fast(text, layout) if text is not None else None
    fallback = typed is None or typed.num_rows != len(records)
    if fallback:
        typed = _typed_fallback(records, layout, rescue)
    else:
        _rescue_unknown_nested(records, layout, rescue)
    assert typed is not None
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    event_time = _event_times(typed.column("eventTime"), rescue)
    columns["event_date"] = pc.cast(event_time, pa.date32())
    for name in layout.typed.names:
        columns[name] = event_time if name == "eventTime" else typed.column(name)
    for name in layout.json_text:
        columns[name] = _json_text([record.get(name) for record in records])
    columns["_rescued_data"] = _rescue_column(rescue, len(records))
    columns["source_object"] = pa.repeat(pa.scalar(source_object), len(records))
    schema = table_schema(layout)
    return pa.table([columns[name] for name in schema.names], schema=schema), fallback


def _typed_fast(text: bytes, layout: RecordLayout) -> pa.Table | None:
    envelope = pa.schema([pa.field("Records", pa.list_(pa.struct(list(_read_schema(layout)))))])
    try:
        table = pj.read_json(
            io.BytesIO(text),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(len(text) + 1, _MIB)),
            parse_options=pj.ParseOptions(explicit_schema=envelope, unexpected_field_behavior="ignore"),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != 1:
        return None
    records = table.column("Records").chunk(0).values
    return pa.Table.from_struct_array(records)


def _rescue_unknown_nested(
    records: list[dict[str, msgspec.Raw]], layout: RecordLayout, rescue: dict[int, dict[str, msgspec.Raw]]
) -> None:
    """Keep struct blocks verbatim where they hold keys the typed column does not (pyarrow drops them)."""
    for column in layout.typed:
        if not (pa.types.is_struct(column.type) or pa.types.is_list(column.type)):
            continue
        raws = [record.get(column.name) for record in records]
        present = [raw for raw in raws if raw is not None]
        if not present:
            continue
        try:
            list_decoder(column).decode(b"[" + b",".join(present) + b"]")
            continue
        except msgspec.ValidationError:
            pass
        for index, raw in enumerate(raws):
            if raw is not None and not fits(column, raw, strict=True):
                rescue.setdefault(index, {})[column.name] = raw


def _typed_fallback(
    records: list[dict[str, msgspec.Raw]], layout: RecordLayout, rescue: dict[int, dict[str, msgspec.Raw]]
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
    values = [None if raw is None else bytes(raw) for raw in raws]
    binary = pa.array(values, pa.binary())
    is_null = pc.equal(binary, pa.scalar(b"null", pa.binary()))
    return pc.if_else(is_null, pa.scalar(None, pa.binary()), binary).cast(pa.string())


def _rescue_column(rescue: dict[int, dict[str, msgspec.Raw]], count: int) -> pa.Array:
    values: list[bytes | None] = [None] * count
    for index, fields in rescue.items():
        parts = [msgspec.json.encode(name) + b":" + bytes(raw) for name, raw in fields.items()]
        values[index] = b"{" + b",".join(parts) + b"}"
    return pa.array(values, pa.binary()).cast(pa.string())
