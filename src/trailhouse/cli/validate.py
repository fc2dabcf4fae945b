"""`trailhouse validate`: prove CloudTrail logs were not altered, from their digest files."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from trailhouse.cli.main import lake_option
from trailhouse.errors import UsageError
from trailhouse.integrity.outcomes import Finding, ValidationSummary
from trailhouse.lake import Lake


def _time(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not a UTC time; use e.g. 2026-07-29 or 2026-07-29T09:00:00Z", param=param
        ) from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _when(value: dt.datetime | None, default: str) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else default


def _ratio(summary: ValidationSummary, kind: str) -> str:
    counts = summary.counts
    total = sum(count for (k, _status), count in counts.items() if k == kind)
    if not total:
        return ""
    parts = [f"{counts[(kind, 'valid')]}/{total} {kind} files valid"]
    for status in ("invalid", "missing", "unverified"):
        if counts[(kind, status)]:
            parts.append(f"{counts[(kind, status)]}/{total} {kind} files {status.upper()}")
    return ", ".join(parts)


def _print_text(summary: ValidationSummary, *, verbose: bool) -> None:
    click.echo(
        f"Validating log files in '{summary.source}' between "
        f"{_when(summary.start, 'the oldest digest')} and {_when(summary.end, 'the newest')}\n"
    )
    for finding in summary.findings:
        if finding.status in ("invalid", "missing"):
            click.echo(finding.message + "\n", err=True)
        elif verbose or finding.status == "unverified" or finding.problem:
            click.echo(finding.message)
    click.echo(
        f"\nResults requested for {_when(summary.start, 'the beginning')} to {_when(summary.end, 'now')}"
    )
    if not summary.count("digest"):
        click.echo("No digests found")
    elif summary.found_start is None:
        click.echo("No valid digests found in range")
    else:
        click.echo(f"Results found for {_when(summary.found_start, '?')} to {_when(summary.found_end, '?')}:")
    for kind in ("digest", "log"):
        line = _ratio(summary, kind)
        if line:
            click.echo(f"\n{line}")
    moved = summary.count("digest", problem="moved")
    unlisted = summary.count("log", problem="listed in no digest")
    extras = []
    if moved:
        extras.append(f"{moved} digest file(s) moved from where CloudTrail delivered them (still valid)")
    if unlisted:
        extras.append(f"{unlisted} log file(s) listed in no digest (unverified)")
    if summary.signature_sources:
        counted = sorted(summary.signature_sources.items())
        sources = ", ".join(f"{count} from the {name}" for name, count in counted)
        extras.append(f"Signatures: {sources}")
    extras.extend(summary.notes)
    if extras:
        click.echo("")
        for line in extras:
            click.echo(line)
    click.echo("")


def _print_jsonl(summary: ValidationSummary) -> None:
    def row(finding: Finding) -> dict[str, Any]:
        return {
            "kind": finding.kind,
            "status": finding.status,
            "location": finding.location,
            "source_object": finding.source_object,
            "problem": finding.problem,
            "detail": finding.detail,
            "digest_object": finding.digest_object,
            "count": finding.count,
        }

    for finding in summary.findings:
        sys.stdout.write(json.dumps(row(finding)) + "\n")


@click.command(name="validate")
@click.argument("source")
@lake_option
@click.option(
    "--public-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CloudTrail public keys as JSON ('aws cloudtrail list-public-keys' output); else the lake's cache, "
    "then CloudTrail.",
)
@click.option("--start", callback=_time, help="Only digests from this UTC time on (2026-07-29T09:00Z).")
@click.option("--end", callback=_time, help="Only digests delivered up to this UTC time (plus an hour).")
@click.option("--account", help="Only this account's digests and log files.")
@click.option("--region", help="Only this region's digests and log files.")
@click.option("--workers", type=int, default=0, help="Files hashed at once (0 = one per core, at least 2).")
@click.option("--offline", is_flag=True, help="Never ask CloudTrail for public keys.")
@click.option(
    "--record/--no-record",
    default=None,
    help="Record outcomes in the lake's `validations` table (default: when the lake exists).",
)
@click.option("--strict", is_flag=True, help="Exit 1 also when a file is unverified.")
@click.option("--verbose", "-v", is_flag=True, help="List every file, not only problems.")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
def validate(
    source: str,
    lake: str,
    public_keys: Path | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    account: str | None,
    region: str | None,
    workers: int,
    offline: bool,
    record: bool | None,
    strict: bool,
    verbose: bool,
    fmt: str,
) -> None:
    """Check CloudTrail digests and log files: signatures, the digest chain, every file's SHA-256.

    SOURCE is a folder holding a copy of the trail's bucket, s3://bucket[/prefix], or the word
    `lake` for the objects recorded in --lake. Exits 1 when anything is invalid or missing.
    """
    from trailhouse.integrity.records import Recorder, key_finder, validate_lake
    from trailhouse.integrity.stores import FolderStore, S3Store, Store
    from trailhouse.integrity.validator import Scope
    from trailhouse.integrity.validator import validate as run

    if start and end and start > end:
        raise UsageError(
            f"--start '{_when(start, '')}' is after --end '{_when(end, '')}'\nSwap them, or drop one."
        )
    scope = Scope(start=start, end=end, account=account, region=region)
    the_lake = Lake(lake)
    if source == "lake":
        the_lake.require("ledger")
        summary = validate_lake(
            the_lake,
            public_keys=public_keys,
            scope=scope,
            workers=workers or None,
            online=False if offline else None,
            record=record is not False,
        )
    else:
        store: Store = S3Store(source) if source.startswith("s3://") else FolderStore(Path(source))
        has_lake = the_lake.exists("ledger") or the_lake.exists("public_keys")
        finder = key_finder(
            public_keys=public_keys,
            lake=the_lake if has_lake else None,
            online=not offline,
            required=True,
        )
        recording = record or (record is None and the_lake.exists("ledger"))
        recorder = Recorder(the_lake, store.name) if recording else None
        summary = run(
            store,
            finder,
            scope=scope,
            workers=workers or None,
            sink=recorder,
            keep_valid_logs=verbose or fmt == "jsonl",
        )
        if recorder is not None:
            recorder.flush()
    if fmt == "jsonl":
        _print_jsonl(summary)
    else:
        _print_text(summary, verbose=verbose)
    unverified = any(finding.status == "unverified" for finding in summary.findings)
    if not summary.ok or (strict and unverified):
        sys.exit(1)
