"""`trailhouse maintain compact|retain|vacuum|checkpoint`: keep the lake fast and bounded."""

from __future__ import annotations

import click

from trailhouse import lifecycle
from trailhouse.cli.main import lake_option
from trailhouse.errors import ConcurrentChangeError
from trailhouse.lake import Lake


def _lake(root: str) -> Lake:
    lake = Lake(root)
    lake.require()
    return lake


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@click.group()
def maintain() -> None:
    """Compact small files, drop old partitions, remove unreferenced files, write checkpoints.

    retain and vacuum only report what they would remove unless given --apply.
    """


@maintain.command()
@lake_option
@click.option(
    "--target-file-mb", type=int, default=128, show_default=True, help="Size of the rewritten files."
)
@click.option("--all", "everything", is_flag=True, help="Also rewrite partitions already compacted.")
def compact(lake: str, target_file_mb: int, everything: bool) -> None:
    """Rewrite each day's small files into large ones, ordered by service then event name.

    The new files also store the derived columns (principal, s3_bucket, s3_key, ...) that reports
    would otherwise compute. A day already in one file that holds them is left alone.

    A day that another writer compacts or removes at the same time is left as it is (nothing of its
    rewrite is committed) and named; the command then exits with status 1: run it again.
    """
    results = lifecycle.compact(_lake(lake), target_file_mb=target_file_mb, everything=everything)
    for result in results:
        click.echo(
            f"{result.table}: {len(result.partitions)} partitions rewritten, "
            f"{result.files_before} files -> {result.files_after} files ({_size(result.bytes)})"
        )
    conflicts = [f"{r.table} event_date={p}" for r in results for p in r.conflicts]
    if conflicts:
        raise ConcurrentChangeError(
            f"{len(conflicts)} partition(s) changed by another writer during compaction were left "
            f"as they were ({', '.join(conflicts)}): run 'trailhouse maintain compact' again"
        )


@maintain.command()
@lake_option
@click.option("--days", type=int, required=True, help="Keep this many days; older partitions go.")
@click.option("--apply", is_flag=True, help="Delete them (default: only list them).")
def retain(lake: str, days: int, apply: bool) -> None:
    """Drop whole event_date partitions older than --days (dry run unless --apply)."""
    results = lifecycle.retain(_lake(lake), days=days, apply=apply)
    for result in results:
        for part in result.partitions:
            verb = "removed" if result.applied else "would remove"
            click.echo(
                f"{verb} {part.table} event_date={part.partition} ({part.rows} rows, {part.files} files)"
            )
    total = sum(len(r.partitions) for r in results)
    cutoff = results[0].cutoff.isoformat() if results else ""
    if total == 0:
        click.echo(f"Nothing older than {days} days (before {cutoff}).")
    elif not apply:
        click.echo(f"Dry run: {total} partitions before {cutoff}. Run again with --apply to delete them.")
    else:
        click.echo(
            f"Removed {total} partitions before {cutoff}; recorded in the ledger. "
            "Run 'trailhouse maintain vacuum --apply' to free the disk space."
        )


@maintain.command()
@lake_option
@click.option(
    "--retention-hours", type=int, default=168, show_default=True, help="Keep files newer than this."
)
@click.option("--apply", is_flag=True, help="Delete the files (default: only list them).")
def vacuum(lake: str, retention_hours: int, apply: bool) -> None:
    """Delete files no version references any more (dry run unless --apply)."""
    results = lifecycle.vacuum(_lake(lake), retention_hours=retention_hours, apply=apply)
    for result in results:
        for path in result.files:
            click.echo(f"{'deleted' if apply else 'would delete'} {result.table}/{path}")
    total = sum(len(r.files) for r in results)
    if not apply and total:
        click.echo(f"Dry run: {total} files. Run again with --apply to delete them.")
    else:
        click.echo(f"{'Deleted' if apply else 'Nothing to delete:'} {total} files.")


@maintain.command()
@lake_option
def checkpoint(lake: str) -> None:
    """Write a Delta checkpoint of each table so readers start fast."""
    for table, version in lifecycle.checkpoint(_lake(lake)).items():
        click.echo(f"{table}: checkpoint at version {version}")
