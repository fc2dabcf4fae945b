"""Rows back into the original CloudTrail records (typed columns + JSON text + rescued values)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa

from trailhouse.model.schema import EVENTS, INSIGHTS, RecordLayout

_LAYOUTS = {EVENTS.table: EVENTS, INSIGHTS.table: INSIGHTS}


def layout_of(table: str) -> RecordLayout:
    return _LAYOUTS[table]


def original_records(
    rows: pa.Table | Iterable[pa.RecordBatch], table: str = "cloudtrail"
) -> Iterator[dict[str, Any]]:
    """Each row as the record CloudTrail delivered (JSON-equal; null-valued keys are absent)."""
    layout = layout_of(table)
    batches = rows.to_batches() if isinstance(rows, pa.Table) else rows
    for batch in batches:
        for row in batch.to_pylist():
            yield record_from_row(row, layout)


def record_from_row(row: dict[str, Any], layout: RecordLayout) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in layout.typed.names:
        value = _without_nulls(row.get(name))
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        record[name] = value
    for name in layout.json_text:
        text = row.get(name)
        if text is not None:
            record[name] = json.loads(text)
    rescued = row.get("_rescued_data")
    if rescued:
        record.update(json.loads(rescued))
    return record


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
