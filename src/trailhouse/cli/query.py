"""`trailhouse query` (SQL over the lake) and `trailhouse export` (the original records)."""

from __future__ import annotations

import json
import sys

import click

from trailhouse.cli.main import lake_option
from trailhouse.cli.output import format_option, print_table
from trailhouse.errors import QueryError
from trailhouse.ingest.export import original_records
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine, Scope

# Every table and account, but DuckDB locked down as for the server's users: SQL typed (or pasted)
# here cannot read or write other files, attach databases, load extensions or change settings.
_READ_ONLY = Scope(sandboxed=True)


def _audit(lake: Lake, statement: str, rows: int, status: str) -> None:
    """CLI queries are audited like API ones (when the audit module is present)."""
    try:
        from trailhouse.auth.audit import record_cli_query
    except ImportError:
        return
    record_cli_query(lake, statement, rows, status)


@click.command()
@click.argument("sql")
@lake_option
@format_option
def query(sql: str, lake: str, fmt: str) -> None:
    """Run SQL over the lake's tables and views (DuckDB dialect).

    Tables: cloudtrail, cloudtrail_insights, cloudtrail_digests, ledger, quarantine, plus the
    views listed by `trailhouse query "SHOW TABLES"`. The SQL reads only the lake: no other file
    or URL, no ATTACH, INSTALL or SET, and at most 2 GB of memory.
    """
    the_lake = Lake(lake)
    the_lake.require()
    engine = Engine(the_lake, _READ_ONLY)
    try:
        result = engine.query(sql)
    except QueryError:
        _audit(the_lake, sql, 0, "error")
        raise
    _audit(the_lake, sql, result.num_rows, "ok")
    print_table(result, fmt)


@click.command()
@lake_option
@click.option(
    "--where", default="", help="SQL predicate over cloudtrail, e.g. \"eventName = 'ConsoleLogin'\"."
)
@click.option("--table", default="cloudtrail", type=click.Choice(["cloudtrail", "cloudtrail_insights"]))
def export(lake: str, where: str, table: str) -> None:
    """Print the original CloudTrail records, one JSON object per line."""
    the_lake = Lake(lake)
    the_lake.require(table)
    engine = Engine(the_lake, _READ_ONLY)
    sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
    reader = engine.batches(sql)
    count = 0
    for record in original_records(reader, table):
        sys.stdout.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    _audit(the_lake, sql, count, "ok")
