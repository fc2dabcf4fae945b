"""What a parser process does with a group of objects: bytes in, one ParsedGroup out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from trailhouse.errors import ObjectReadError
from trailhouse.ingest.reader import (
    BIG_OBJECT_BYTES,
    ParsedGroup,
    ParsedObject,
    decompress,
    parse_objects,
)
from trailhouse.ingest.spill import Spill
from trailhouse.model.schema import EVENTS, INSIGHTS, RecordLayout
from trailhouse.sources.local import read_file

LAYOUT_BY_KIND = {"events": EVENTS, "insights": INSIGHTS}
DIGESTS = "cloudtrail_digests"


@dataclass(frozen=True)
class LocalFile:
    """An object in a local folder, read by the parser itself: its bytes never cross a pipe."""

    path: str


@dataclass(frozen=True)
class Unreadable:
    """An object whose file could not be read: its result is the reason."""

    reason: str


Item = tuple[str, str, bytes | LocalFile]  # (kind, source_object, content) as the main process sends it
Loaded = tuple[str, str, bytes | Unreadable]  # the same, a local file read by the parser


def loaded(items: Sequence[Item]) -> list[Loaded]:
    """The items with every local file read: its bytes, or why it is unreadable."""
    return [(kind, name, _load(content)) for kind, name, content in items]


def _load(content: bytes | LocalFile) -> bytes | Unreadable:
    if not isinstance(content, LocalFile):
        return content
    try:
        return read_file(content.path)
    except ObjectReadError as error:
        return Unreadable(str(error))


def _unexpected(error: Exception) -> str:
    return f"unexpected error while parsing: {type(error).__name__}: {error}"


def _parse_digest(data: bytes, source_object: str) -> tuple[ParsedObject, pa.Table]:
    from trailhouse.model.digest import digest_table

    text = decompress(data)
    return ParsedObject(records=1, uncompressed_bytes=len(text)), digest_table(text, source_object, None)


def parse_group(
    items: Sequence[Loaded],
    columns: Sequence[str] | None = None,
    stream_from: int = BIG_OBJECT_BYTES,
    spill: Spill | None = None,
) -> ParsedGroup:
    """Parse (kind, source_object, content) objects, local files `loaded`; a bad or unreadable
    object is a reason string, never a crash.

    With `columns`, event and Insights rows keep only those columns, and their whole rows go to
    `spill` (none of a failed object's). Digest rows are kept whole. Objects of `stream_from`
    stored bytes or more are streamed.
    """
    readable = [
        (index, LAYOUT_BY_KIND[kind], name, data)
        for index, (kind, name, data) in enumerate(items)
        if kind in LAYOUT_BY_KIND and isinstance(data, bytes)
    ]
    logs = [index for index, _, _, _ in readable]
    work = [(layout, name, data) for _, layout, name, data in readable]
    mark = spill.mark() if spill is not None else 0
    try:
        parsed = parse_objects(work, columns=columns, stream_from=stream_from, spill=spill)
    except Exception:  # find the culprit object by object
        if spill is not None:
            spill.rollback(mark)
        parsed = _one_by_one(work, columns, stream_from, spill)
    results: list[ParsedObject | str] = [""] * len(items)
    ranges: list[tuple[str, int, int]] = [("", 0, 0)] * len(items)
    for position, index in enumerate(logs):
        results[index] = parsed.results[position]
        ranges[index] = parsed.ranges[position]
    tables = dict(parsed.tables)
    digests: list[pa.Table] = []
    for index, (kind, source_object, data) in enumerate(items):
        if isinstance(data, Unreadable):
            results[index] = data.reason
            continue
        if kind in LAYOUT_BY_KIND or not isinstance(data, bytes):
            continue
        try:
            result, rows = _parse_digest(data, source_object)
        except ObjectReadError as error:
            results[index] = str(error)
            continue
        except Exception as error:  # quarantined with its reason
            results[index] = _unexpected(error)
            continue
        ranges[index] = (DIGESTS, sum(t.num_rows for t in digests), rows.num_rows)
        results[index] = result
        digests.append(rows)
    if digests:
        tables[DIGESTS] = pa.concat_tables(digests)
    return ParsedGroup(tables, results, ranges)


def _one_by_one(
    work: list[tuple[RecordLayout, str, bytes]],
    columns: Sequence[str] | None,
    stream_from: int,
    spill: Spill | None,
) -> ParsedGroup:
    """Parse objects singly, so one object's unexpected failure quarantines only that object."""
    tables: dict[str, list[pa.Table]] = {}
    results: list[ParsedObject | str] = []
    ranges: list[tuple[str, int, int]] = []
    for item in work:
        mark = spill.mark() if spill is not None else 0
        try:
            single = parse_objects([item], columns=columns, stream_from=stream_from, spill=spill)
        except Exception as error:  # quarantined with its reason (a streamed object's own, if any)
            if spill is not None:
                spill.rollback(mark)
            results.append(str(error) if isinstance(error, ObjectReadError) else _unexpected(error))
            ranges.append(("", 0, 0))
            continue
        results.append(single.results[0])
        table, _, count = single.ranges[0]
        if table:
            start = sum(t.num_rows for t in tables.get(table, []))
            tables.setdefault(table, []).append(single.tables[table])
            ranges.append((table, start, count))
        else:
            ranges.append(("", 0, 0))
    return ParsedGroup({k: pa.concat_tables(v) for k, v in tables.items()}, results, ranges)
