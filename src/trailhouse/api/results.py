"""Arrow results as JSON-safe rows and as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa


def plain(value: Any) -> Any:
    """A JSON-safe copy of one Arrow value (timestamps as ISO 8601, structs as objects)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return value


def columns(table: pa.Table) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in table.schema]


def rows(table: pa.Table, records: list[dict[str, Any]] | None = None) -> list[list[Any]]:
    """The table's rows as JSON-safe lists (`records`: its `to_pylist()`, when the caller has it).

    `plain` runs only on the columns whose values need it (timestamps, structs, lists...)."""
    names = table.column_names
    records = table.to_pylist() if records is None else records
    as_is = [_is_plain(t) for t in table.schema.types]
    if all(as_is) and len(set(names)) == len(names):  # a dict row holds each name once
        return [list(r.values()) for r in records]
    return [[r[c] if keep else plain(r[c]) for c, keep in zip(names, as_is, strict=True)] for r in records]


def _is_plain(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    )


def to_csv(table: pa.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in rows(table):
        writer.writerow(
            [
                json.dumps(v, separators=(",", ":"))
                if isinstance(v, dict | list)
                else ("" if v is None else v)
                for v in row
            ]
        )
    return out.getvalue()
