"""`trailhouse sample`: write a realistic, deterministic CloudTrail bucket to a folder."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from trailhouse.sample import DEFAULT_START, SampleResult, SampleSpec, write_sample
from trailhouse.sample import incident as incident_facts


class _Bar:
    """Events written so far, on a terminal's stderr (large samples take minutes)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def __call__(self, records: int) -> None:
        self.done += records
        click.echo(f"\r  {self.done:,} / {self.total:,} events", nl=False, err=True)

    def close(self) -> None:
        if self.done:
            click.echo("", err=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _summary(result: SampleResult, spec: SampleSpec) -> list[str]:
    mib = 1024 * 1024
    rate = result.events / result.log_seconds if result.log_seconds else 0.0
    accounts = ", ".join(result.accounts[:4]) + (", ..." if len(result.accounts) > 4 else "")
    trail = f"organisation trail {result.org}" if result.org else "account trails"
    lines = [
        f"Wrote {result.events:,} events in {result.files:,} log files to '{result.root}' "
        f"({result.raw_bytes / mib:,.1f} MiB JSON, {result.gz_bytes / mib:,.1f} MiB gzipped) "
        f"in {result.seconds:.1f} s (log files: {rate:,.0f} events/s)",
        f"  {_count(len(result.accounts), 'account')} ({accounts}), {_count(len(result.regions), 'region')} "
        f"({', '.join(result.regions)}), {_count(spec.days, 'day')} from {spec.start}, {trail}",
        f"  {result.insight_files} Insights files, {result.config_files} AWS Config file, "
        + (f"{result.digests} digest files" if spec.digests else "no digests (--no-digests)"),
    ]
    if result.overlap_files:
        lines.append(
            f"  {result.overlap_files:,} account-trail copies ({result.overlap_events:,} duplicate "
            f"events) of account {result.accounts[0]}'s organisation-trail files"
        )
    where = incident_facts.locate(result.accounts[0], spec.start, spec.days)
    lines.append(
        f"  Incident: '{incident_facts.USER}' signs in without MFA from {incident_facts.IP} "
        f"at {where.login_time:%Y-%m-%d %H:%M:%S}Z in account {where.account} ({where.region})"
    )
    lines.append(f"Next: trailhouse ingest {result.root}")
    return lines


@click.command("sample")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--accounts", default=3, show_default=True, help="Number of AWS accounts.")
@click.option("--regions", default=2, show_default=True, help="Number of regions (us-east-1 first).")
@click.option("--days", default=2, show_default=True, help="Number of days.")
@click.option(
    "--events",
    default=20_000,
    show_default=True,
    help="Total events in the CloudTrail log files (exact; overlap copies not counted).",
)
@click.option(
    "--seed", default=1, show_default=True, help="Random seed: the same seed and options give the same bytes."
)
@click.option(
    "--org/--no-org",
    default=False,
    show_default=True,
    help="Organisation-trail layout: AWSLogs/o-xxxxxxxxxx/<account>/...",
)
@click.option(
    "--overlap",
    is_flag=True,
    help="With --org: also write account-trail copies of the first "
    "account's files, so the same events arrive twice (exercises dedup).",
)
@click.option(
    "--start-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="First day (UTC), YYYY-MM-DD.",
)
@click.option(
    "--digests/--no-digests",
    default=True,
    show_default=True,
    help="Write signed hourly digest files and public-keys.json.",
)
@click.option(
    "--bucket",
    default="trailhouse-sample-bucket",
    show_default=True,
    help="Bucket name recorded in the digest files.",
)
@click.option("--workers", default=1, show_default=True, help="Processes rendering log files.")
@click.option(
    "--force",
    is_flag=True,
    help="Replace a previous sample in DIR (removes its AWSLogs/ and public-keys.json only).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
def sample(
    directory: Path,
    accounts: int,
    regions: int,
    days: int,
    events: int,
    seed: int,
    org: bool,
    overlap: bool,
    start_date: datetime,
    digests: bool,
    bucket: str,
    workers: int,
    force: bool,
    quiet: bool,
) -> None:
    """Write a realistic, deterministic CloudTrail bucket to DIR.

    Log files in CloudTrail's own key layout (5-minute deliveries), Insights files, one AWS Config
    snapshot (to be skipped by ingest), signed digests, and a built-in incident on the last day.
    """
    spec = SampleSpec(
        root=directory,
        accounts=accounts,
        regions=regions,
        days=days,
        events=events,
        seed=seed,
        org=org,
        start=start_date.date(),
        overlap=overlap,
        digests=digests,
        bucket=bucket,
        workers=workers,
    )
    bar = _Bar(events) if not quiet and sys.stderr.isatty() else None
    try:
        result = write_sample(spec, force=force, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        for line in _summary(result, spec):
            click.echo(line)
