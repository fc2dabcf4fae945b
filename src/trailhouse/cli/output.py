"""Printing Arrow tables for people (table) and programs (csv, json, jsonl)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from typing import IO, Any, Literal

import click
import pyarrow as pa

Format = Literal["table", "csv", "json", "jsonl"]
FORMATS = ("table", "csv", "json", "jsonl")
format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)
_MAX_CELL = 60


def plain(value: Any) -> Any:
    """A value as JSON-ready Python: times as ISO text (UTC "Z"), bytes as text, nested alike."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def print_table(table: pa.Table, fmt: str = "table", out: IO[str] | None = None) -> None:
    """Write `table` to `out` (stdout) in the chosen format."""
    out = out or sys.stdout
    rows = table.to_pylist()
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(plain(row), ensure_ascii=False) + "\n")
    elif fmt == "json":
        out.write(json.dumps([plain(r) for r in rows], ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(table.column_names)
        for row in rows:
            writer.writerow(
                [
                    "" if v is None else _cell(v) if isinstance(v, dict | list) else plain(v)
                    for v in row.values()
                ]
            )
    else:
        _print_aligned(table.column_names, [[_cell(v) for v in row.values()] for row in rows], out)


def _print_aligned(header: list[str], cells: list[list[str]], out: IO[str]) -> None:
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    out.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(cells)} row{'s' if len(cells) != 1 else ''})\n")
