"""The background compactor of `ingest --follow`: it compacts while deliveries keep arriving, and
stops without starting another day."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.query.lakes import build_lake, record
from trailhouse import lifecycle
from trailhouse.auto_compact import AutoCompactor
from trailhouse.lake import Lake
from trailhouse.query import derived


def _files_per_day(lake: Lake) -> list[int]:
    return [p.files for p in lifecycle.partitions(lake, "cloudtrail")]


def _rows(lake: Lake) -> int:
    table = lake.read("cloudtrail", columns=["eventID"])
    return 0 if table is None else len(set(table.column("eventID").to_pylist()))


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_compactor_compacts_each_round_while_deliveries_arrive(tmp_path: Path) -> None:
    for hour in (1, 2):
        build_lake(tmp_path, [record(eventTime=f"2026-11-0{d}T0{hour}:00:00Z") for d in (1, 2)])
    lake = Lake(tmp_path)
    assert _files_per_day(lake) == [2, 2]
    compactor = AutoCompactor(lake, interval=0.2).start()
    try:
        _wait(lambda: _files_per_day(lake) == [1, 1])
        assert all(derived.holds_current(f) for f in lake.files("cloudtrail") or [])
        build_lake(tmp_path, [record(eventTime="2026-11-02T05:00:00Z")])  # a later delivery
        _wait(lambda: _files_per_day(lake) == [1, 1] and _rows(lake) == 5)
    finally:
        compactor.stop()
    assert compactor.rounds >= 2


def test_compactor_stops_at_once_between_rounds(tmp_path: Path) -> None:
    build_lake(tmp_path, [record()])
    compactor = AutoCompactor(Lake(tmp_path), interval=3600).start()
    started = time.monotonic()
    compactor.stop()
    assert time.monotonic() - started < 5 and compactor.rounds == 0


def test_compact_starts_no_day_once_stopping(tmp_path: Path) -> None:
    for hour in (1, 2):
        build_lake(tmp_path, [record(eventTime=f"2026-11-0{d}T0{hour}:00:00Z") for d in (1, 2)])
    lake = Lake(tmp_path)
    asked: list[int] = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 1  # the first day goes ahead, the second does not start

    [result] = lifecycle.compact(lake, tables=("cloudtrail",), stopping=stopping)
    assert result.partitions == ("2026-11-01",)
    assert _files_per_day(lake) == [1, 2]
