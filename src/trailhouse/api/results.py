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


def rows(table: pa.Table) -> list[list[Any]]:
    names = table.column_names
    return [[plain(row[n]) for n in names] for row in table.to_pylist()]


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
