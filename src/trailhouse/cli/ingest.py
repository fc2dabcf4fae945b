"""`trailhouse ingest`: land CloudTrail objects from folders, buckets or queues in the lake."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import click

from trailhouse.auto_compact import AutoCompactor
from trailhouse.cli.main import lake_option
from trailhouse.config import setting
from trailhouse.errors import UsageError
from trailhouse.ingest import pipeline
from trailhouse.lake import Lake
from trailhouse.sources.base import Source

_COMPACT_EVERY = "1h"  # --compact-every's default with --follow
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smh]?)$")


def _seconds(text: str, flag: str) -> float:
    """'30s', '15m', '1h' or a number of seconds; '0' means never."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"Invalid value {text!r} for {flag}\nUse a duration: 30s, 15m or 1h (0 = never).")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _csv_set(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


class _Bar:
    """A progress bar on a terminal (stderr), counting objects and bytes."""

    def __init__(self) -> None:
        self.objects = 0
        self.nbytes = 0

    def advance(self, objects: int, nbytes: int) -> None:
        self.objects += objects
        self.nbytes += nbytes
        if self.objects % 25 == 0:
            click.echo(f"\r  {self.objects} objects, {self.nbytes / 1048576:.0f} MiB", nl=False, err=True)

    def close(self) -> None:
        if self.objects:
            click.echo("", err=True)


def _open_sources(
    specs: tuple[str, ...], since: date | None, follow: bool, extra: dict[str, object]
) -> list[Source]:
    sources: list[Source] = []
    for spec in specs:
        if "://" in spec or spec.startswith("https:"):
            try:
                from trailhouse.sources.resolve import open_source
            except ImportError:
                raise UsageError(f"Source '{spec}' needs the AWS sources, which are not installed") from None
            sources.append(open_source(spec, since=since, follow=follow, options=extra))
        else:
            if follow:
                raise UsageError("--follow applies to sqs:// sources only\nDrop --follow for a folder.")
            from trailhouse.sources.local import LocalSource

            sources.append(LocalSource(Path(spec)))
    return sources


@click.command(name="ingest")
@click.argument("sources", nargs=-1, required=True)
@lake_option
@click.option("--follow", is_flag=True, help="Keep polling an SQS queue until SIGTERM.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="S3 listing: only days from this date on.")
@click.option(
    "--enqueue", metavar="SQS", help="S3 listing: send the objects to this queue instead of ingesting."
)
@click.option(
    "--visibility-timeout",
    type=int,
    default=None,
    help="SQS: seconds a received message stays hidden (extended while a big file is processed).",
)
@click.option(
    "--max-receives",
    type=int,
    default=5,
    show_default=True,
    help="SQS: receives before a message is quarantined.",
)
@click.option(
    "--workers",
    type=int,
    default=lambda: int(setting("workers")),
    help="Parser processes (0 = one per core, 1 = parse in this process: least memory).",
)
@click.option(
    "--batch-mb", type=int, default=lambda: int(setting("batch_mb")), help="JSON MiB gathered per commit."
)
@click.option(
    "--accounts", default=lambda: setting("accounts"), help="Allow-list of accounts (comma-separated)."
)
@click.option(
    "--regions", default=lambda: setting("regions"), help="Allow-list of regions (comma-separated)."
)
@click.option("--validate", is_flag=True, help="Validate digest chains and log-file hashes after ingesting.")
@click.option(
    "--public-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --validate: CloudTrail public keys (ListPublicKeys JSON); cached in the lake.",
)
@click.option(
    "--compact-every",
    metavar="DURATION",
    help="With --follow: compact the lake in the background every DURATION (30s, 15m, 1h; 0 = never)."
    f"  [default: {_COMPACT_EVERY}]",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def ingest_command(
    sources: tuple[str, ...],
    lake: str,
    follow: bool,
    since: object,
    enqueue: str | None,
    visibility_timeout: int | None,
    max_receives: int,
    workers: int,
    batch_mb: int,
    accounts: str,
    regions: str,
    validate: bool,
    public_keys: Path | None,
    compact_every: str | None,
    quiet: bool,
) -> None:
    """Ingest CloudTrail objects from SOURCES (folders, s3://bucket/prefix, sqs://queue) into the lake.

    Every object is accounted for (ingested, skipped with a reason, or quarantined with the error),
    each event is stored once, and re-running adds nothing.
    """
    since_date = since.date() if since is not None else None  # type: ignore[attr-defined]
    extra: dict[str, object] = {"max_receives": max_receives, "visibility_timeout": visibility_timeout}
    if enqueue:
        from trailhouse.sources.enqueue import enqueue_objects

        sent = enqueue_objects(list(sources), enqueue, since=since_date)
        if not quiet:
            click.echo(f"sent {sent} objects to {enqueue}")
        return
    if compact_every is not None and not follow:
        raise UsageError("--compact-every applies with --follow only\nRun 'trailhouse maintain compact'.")
    interval = _seconds(compact_every or _COMPACT_EVERY, "--compact-every") if follow else 0.0
    opened = _open_sources(sources, since_date, follow, extra)
    options = pipeline.IngestOptions(
        workers=workers, batch_mb=batch_mb, accounts=_csv_set(accounts), regions=_csv_set(regions)
    )
    bar = _Bar() if not quiet and sys.stderr.isatty() else None
    compactor = AutoCompactor(Lake(lake), interval).start() if interval else None
    try:
        result = pipeline.ingest(opened, Lake(lake), options, bar)
    finally:
        if compactor:
            compactor.stop()
        if bar:
            bar.close()
        for source in opened:
            source.close()
    if not quiet:
        for line in result.summary():
            click.echo(line)
    if validate:
        from trailhouse.integrity.validate import validate_lake

        summary = validate_lake(Lake(lake), public_keys=public_keys, only_new=True)
        if not quiet:
            click.echo(str(summary))


ingest = ingest_command
