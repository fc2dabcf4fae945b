"""Every report on a generated bucket equals the same question answered in plain Python over the raw
.json.gz files (tests/query/oracle.py): gzip + json, no DuckDB, no lake."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.query import oracle
from trailhouse import lifecycle
from trailhouse.ingest.pipeline import IngestOptions, ingest
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine
from trailhouse.query.reports import ReportParams, list_reports, run_report
from trailhouse.sample import SampleSpec, write_sample
from trailhouse.sources.local import LocalSource

ALL_ROWS = ReportParams(limit=10_000_000)


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake]:
    root = tmp_path_factory.mktemp("bucket")
    write_sample(
        SampleSpec(root=root, accounts=2, regions=2, days=3, events=6000, seed=7, digests=False), force=True
    )
    lake = Lake(tmp_path_factory.mktemp("lake"))
    result = ingest([LocalSource(root)], lake, IngestOptions(workers=1))
    assert result.reconciles() and result.quarantined == 0, result
    return root, lake


@pytest.fixture(scope="module")
def lakes(bucket: tuple[Path, Lake], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Lake]:
    """The ingested lake; a copy with its first day compacted (derived columns stored for that day,
    computed for the others); a copy wholly compacted."""
    ingested = bucket[1]
    partly = Lake(shutil.copytree(ingested.root, tmp_path_factory.mktemp("partly"), dirs_exist_ok=True))
    first_day = lifecycle.partitions(partly, "cloudtrail")[0].partition
    partly.rewrite_sorted(
        "cloudtrail", partition=first_day, sort_by=lifecycle.SORT_BY["cloudtrail"], rows_per_file=10**6
    )
    compacted = Lake(shutil.copytree(ingested.root, tmp_path_factory.mktemp("compacted"), dirs_exist_ok=True))
    lifecycle.compact(compacted)
    return {"ingested": ingested, "partly compacted": partly, "compacted": compacted}


@pytest.fixture(scope="module")
def raw(bucket: tuple[Path, Lake]) -> tuple[list[oracle.Rec], list[oracle.Rec]]:
    return oracle.read_bucket(bucket[0])


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _shape(rows: list[dict[str, Any]], keys: tuple[str, ...], values: tuple[str, ...]) -> oracle.Rows:
    shaped: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        key = tuple(_norm(row[k]) for k in keys)
        shaped[key] = tuple(_norm(row[v]) for v in values) if values else (shaped.get(key, (0,))[0] + 1,)
    return shaped


def _expected(rows: oracle.Rows) -> oracle.Rows:
    return {tuple(_norm(k) for k in key): tuple(_norm(v) for v in value) for key, value in rows.items()}


def test_oracle_covers_every_report() -> None:
    assert set(oracle.ORACLES) == {spec.name for spec in list_reports()}
    for spec in list_reports():
        assert set(oracle.SHAPES[spec.name]) == set(spec.sections), spec.name


@pytest.mark.slow
@pytest.mark.parametrize("state", ["ingested", "partly compacted", "compacted"])
@pytest.mark.parametrize("name", sorted(oracle.ORACLES))
def test_report_equals_plain_python_over_raw_files(
    name: str, state: str, lakes: dict[str, Lake], raw: tuple[list[oracle.Rec], list[oracle.Rec]]
) -> None:
    events, insights = raw
    result = run_report(Engine(lakes[state]), name, ALL_ROWS)
    expected = oracle.ORACLES[name](events, insights)
    for section, (keys, values) in oracle.SHAPES[name].items():
        got = _shape(result[section].to_pylist(), keys, values)
        assert got == _expected(expected[section]), f"{name}: section {section} differs"
    # The sample exercises every report: at least one section of each has rows.
    assert any(result[s].num_rows for s in result.sections), name


def _period(r: oracle.Rec, interval: str) -> datetime:
    t = r["_time"].replace(tzinfo=None)
    if interval == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    start = oracle.day(r)
    if interval == "week":  # ISO weeks start on Monday
        return start - timedelta(days=start.weekday())
    return start.replace(day=1)


@pytest.mark.slow
@pytest.mark.parametrize("state", ["ingested", "compacted"])
@pytest.mark.parametrize("interval", ["hour", "week", "month"])
def test_general_operations_over_time_by_each_interval(
    interval: str, state: str, lakes: dict[str, Lake], raw: tuple[list[oracle.Rec], list[oracle.Rec]]
) -> None:
    params = ReportParams(limit=10_000_000, extra={"interval": interval})
    result = run_report(Engine(lakes[state]), "general-operations", params)
    expected = oracle.group(
        raw[0],
        lambda r: (_period(r, interval),),
        events=oracle.n,
        errors=oracle.errors,
        accounts=oracle.distinct(lambda r: r["recipientAccountId"]),
    )
    got = _shape(result["over_time"].to_pylist(), ("period",), ("events", "errors", "accounts"))
    assert got == _expected(expected)
    assert got
