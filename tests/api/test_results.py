"""Arrow results as JSON-safe rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from trailhouse.api.results import rows


def test_results_rows_converts_only_values_json_cannot_hold() -> None:
    table = pa.table(
        {
            "eventName": ["GetObject", None],
            "events": [3, 4],
            "share": [0.5, None],
            "period": pa.array([datetime(2026, 11, 1, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            "flags": [["root"], []],
        }
    )
    assert rows(table) == [
        ["GetObject", 3, 0.5, "2026-11-01T00:00:00+00:00", ["root"]],
        [None, 4, None, None, []],
    ]


def test_results_rows_have_a_cell_per_column_when_names_repeat() -> None:
    table = pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], names=["x", "x"])
    assert len(rows(table)[0]) == 2
