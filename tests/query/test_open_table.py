"""The lake is plain Delta: Polars' own Delta reader gets the answers Trailhouse's queries get,
before and after compaction; and `trailhouse ddl` registers it elsewhere."""

from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

from trailhouse import ddl, lifecycle
from trailhouse.cli.main import cli
from trailhouse.ingest.pipeline import IngestOptions, ingest
from trailhouse.lake import Lake
from trailhouse.query import derived
from trailhouse.query.engine import Engine
from trailhouse.query.reports import ReportParams, run_report
from trailhouse.sample import SampleSpec, write_sample
from trailhouse.sources.local import LocalSource


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("bucket")
    write_sample(
        SampleSpec(root=root, accounts=2, regions=1, days=2, events=1500, seed=3, digests=False), force=True
    )
    the_lake = Lake(tmp_path_factory.mktemp("lake"))
    ingest([LocalSource(root)], the_lake, IngestOptions(workers=1))
    return the_lake


def _polars_answers(lake: Lake) -> dict[str, object]:
    frame = pl.scan_delta(lake.uri("cloudtrail"))
    by_service = (
        frame.with_columns(
            pl.col("eventSource").str.replace(".amazonaws.com", "", literal=True).alias("service")
        )
        .group_by("service")
        .agg(pl.len().alias("events"), pl.col("errorCode").count().alias("errors"))
        .collect()
    )
    # (Select the struct field before filtering: Polars 2.1 fails to push a struct-field predicate down.)
    root_logins = (
        frame.select("eventName", pl.col("userIdentity").struct.field("type").alias("identity_type"))
        .filter((pl.col("eventName") == "ConsoleLogin") & (pl.col("identity_type") == "Root"))
        .select(pl.len())
        .collect()
        .item()
    )
    one_day = frame.filter(pl.col("event_date") == pl.date(2026, 11, 2)).select(pl.len()).collect().item()
    return {
        "by_service": {(r["service"], r["events"], r["errors"]) for r in by_service.to_dicts()},
        "root_logins": root_logins,
        "one_day": one_day,
    }


def _trailhouse_answers(lake: Lake) -> dict[str, object]:
    engine = Engine(lake)
    report = run_report(engine, "general-operations", ReportParams(limit=1000))
    logins = run_report(engine, "console-logins", ReportParams(limit=1000))
    one_day = engine.query("SELECT count(*) AS n FROM cloudtrail WHERE event_date = DATE '2026-11-02'")
    return {
        "by_service": {(r["service"], r["events"], r["errors"]) for r in report["by_service"].to_pylist()},
        "root_logins": logins["root_logins"].num_rows,
        "one_day": one_day.column("n")[0].as_py(),
    }


def test_polars_delta_reader_gets_trailhouse_answers(lake: Lake) -> None:
    ours = _trailhouse_answers(lake)
    assert ours["one_day"] > 0 and len(ours["by_service"]) > 3  # type: ignore[arg-type]
    assert _polars_answers(lake) == ours


def test_polars_reads_the_compacted_and_checkpointed_table(lake: Lake) -> None:
    before = _trailhouse_answers(lake)
    lifecycle.compact(lake)
    assert _polars_answers(lake) == before == _trailhouse_answers(lake)
    # the derived columns compaction stored are not part of the table other engines read
    columns = pl.scan_delta(lake.uri("cloudtrail")).collect_schema().names()
    assert "eventName" in columns and not set(derived.names("cloudtrail")) & set(columns)


def test_ddl_athena_registers_delta_tables() -> None:
    text = ddl.script("athena", "s3://acme-logs/lake", tables=("cloudtrail",))
    assert text.splitlines()[1:] == [
        "CREATE DATABASE IF NOT EXISTS `trailhouse`;",
        "CREATE EXTERNAL TABLE IF NOT EXISTS `trailhouse`.`cloudtrail`",
        "LOCATION 's3://acme-logs/lake/cloudtrail/'",
        "TBLPROPERTIES ('table_type' = 'DELTA');",
    ]


def test_ddl_spark_and_trino_statements() -> None:
    spark = ddl.statements("spark", "s3://b/l", tables=("cloudtrail",))
    assert (
        spark[1]
        == "CREATE TABLE IF NOT EXISTS trailhouse.cloudtrail\nUSING DELTA\nLOCATION 's3a://b/l/cloudtrail'"
    )
    trino = ddl.statements("trino", "s3://b/l", tables=("cloudtrail",), catalog="lake")
    assert trino == [
        "CREATE SCHEMA IF NOT EXISTS lake.trailhouse",
        "CALL lake.system.register_table(schema_name => 'trailhouse', table_name => 'cloudtrail', "
        "table_location => 's3://b/l/cloudtrail')",
    ]


def test_ddl_refuses_names_that_are_not_identifiers() -> None:
    with pytest.raises(ValueError, match="database must be letters"):
        ddl.statements("spark", "s3://b/l", database="x; DROP TABLE y")


def test_ddl_cli_lists_the_lake_tables(lake: Lake) -> None:
    result = CliRunner().invoke(
        cli, ["ddl", "--engine", "athena", "--lake", lake.root, "--location", "s3://b/l"]
    )
    assert result.exit_code == 0, result.output
    assert "`trailhouse`.`cloudtrail`" in result.output and "`trailhouse`.`ledger`" in result.output


def test_ddl_cli_athena_needs_s3(lake: Lake) -> None:
    result = CliRunner().invoke(cli, ["ddl", "--engine", "athena", "--lake", lake.root])
    assert result.exit_code == 2
    assert "Athena needs the lake on S3" in result.output
