"""`trailhouse status`: the ledger's reconciliation, table sizes, freshness and backlog."""

from __future__ import annotations

import json

import click

from trailhouse.cli.main import lake_option
from trailhouse.ingest.status import LakeStatus, lake_status
from trailhouse.lake import Lake


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{size} B"
        value /= 1024
    return f"{size} B"


def _print(status: LakeStatus) -> None:
    click.echo(f"lake {status.lake}")
    for table in status.tables:
        hint = (
            f"  ({table.uncompacted_files} not compacted: run 'trailhouse maintain compact')"
            if table.uncompacted_files
            else ""
        )
        size = _human(table.bytes)
        click.echo(f"  {table.name:<20} version {table.version:<6} {table.files:>6} files  {size}{hint}")
    objects = sum(status.objects_by_status.values())
    parts = " + ".join(f"{name} {count}" for name, count in status.objects_by_status.items())
    click.echo(f"objects {objects} = {parts or '0'}")
    click.echo(
        f"records {status.records} = rows written {status.rows_written} + duplicates dropped "
        f"{status.duplicates} + records quarantined {status.records_quarantined}"
        + ("" if status.reconciles else "   (DOES NOT RECONCILE)")
    )
    click.echo(f"last ingest   {status.last_ingest or 'never'}")
    click.echo(f"newest event  {status.newest_event or 'none'}")
    if status.lag_seconds is not None:
        click.echo(f"lag           {status.lag_seconds / 3600:.1f} h behind now")
    for name, value in status.backlog.items():
        click.echo(f"backlog {name:<14} {value}")


@click.command()
@lake_option
@click.option("--queue", help="Also show the backlog of this SQS queue (sqs://name or URL).")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(lake: str, queue: str | None, as_json: bool) -> None:
    """Show the lake's tables (and files awaiting compaction), ledger reconciliation, freshness, lag
    and backlog."""
    the_lake = Lake(lake)
    the_lake.require("ledger")
    result = lake_status(the_lake)
    if queue:
        from dataclasses import replace

        from trailhouse.sources.backlog import queue_backlog

        result = replace(result, backlog=queue_backlog(queue))
    if as_json:
        click.echo(json.dumps(result.as_dict(), default=str))
    else:
        _print(result)
