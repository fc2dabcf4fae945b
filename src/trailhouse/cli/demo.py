"""`trailhouse demo`: sample logs -> ingest -> a few answers -> what to try next."""

from __future__ import annotations

from pathlib import Path

import click
import pyarrow as pa

from trailhouse.cli.main import command_name, lake_option
from trailhouse.cli.output import print_table
from trailhouse.cli.users import demo_sign_in
from trailhouse.ingest import pipeline
from trailhouse.lake import Lake
from trailhouse.query.engine import Engine
from trailhouse.query.reports import ReportParams, run_report
from trailhouse.sample import SampleSpec, write_sample
from trailhouse.sample import incident as incident_facts
from trailhouse.sources.local import LocalSource

_TOP_EVENTS = """
SELECT eventSource, eventName, count(*) AS events
FROM cloudtrail GROUP BY ALL ORDER BY events DESC LIMIT 8"""
_TOP_ERRORS = """
SELECT errorCode, count(*) AS events, count(DISTINCT userIdentity.arn) AS principals
FROM cloudtrail WHERE errorCode IS NOT NULL GROUP BY ALL ORDER BY events DESC LIMIT 5"""
_INCIDENT = """
SELECT eventTime, userIdentity.type AS identity, coalesce(userIdentity.userName, userIdentity.arn) AS who,
       eventName, sourceIPAddress
FROM cloudtrail
WHERE eventTime BETWEEN $start AND $start + INTERVAL 30 MINUTE
  AND (userIdentity.userName = $user OR userIdentity.type = 'Root')
ORDER BY eventTime"""


def _title(text: str) -> None:
    click.echo("")
    click.secho(text, bold=True)


def _show(table: pa.Table) -> None:
    print_table(table, "table")


@click.command()
@click.option(
    "--dir", "folder", default="sample-logs", show_default=True, help="Where to write the sample logs."
)
@lake_option
@click.option("--events", default=50_000, show_default=True, help="Events in the sample.")
def demo(folder: str, lake: str, events: int) -> None:
    """Generate sample CloudTrail logs, ingest them, and answer a few questions about them."""
    root = Path(folder)
    if (root / "AWSLogs").is_dir():
        click.echo(f"Using the sample logs already in '{root}'.")
    else:
        result = write_sample(SampleSpec(root=root, events=events, accounts=3, regions=2, days=3))
        click.echo(f"Wrote {result.events:,} events in {result.files:,} files to '{root}'.")
    the_lake = Lake(lake)
    ingested = pipeline.ingest([_local(root)], the_lake)
    for line in ingested.summary():
        click.echo(line)
    engine = Engine(the_lake)

    _title("Most frequent API calls")
    _show(engine.query(_TOP_EVENTS))
    _title("Most frequent errors")
    _show(engine.query(_TOP_ERRORS))
    _title("Console logins without MFA, newest first (report console-logins)")
    _show(run_report(engine, "console-logins", ReportParams(limit=6))["without_mfa"])

    _title(
        f"The incident: '{incident_facts.USER}' signs in without MFA, opens a security group, then root acts"
    )
    start = (
        engine.query(
            "SELECT min(eventTime) AS t FROM cloudtrail"
            " WHERE eventName = 'ConsoleLogin' AND userIdentity.userName = $user",
            {"user": incident_facts.USER},
        )
        .column("t")[0]
        .as_py()
    )
    if start is not None:
        _show(engine.query(_INCIDENT, {"start": start, "user": incident_facts.USER}))

    _title("Try next")
    click.echo(demo_sign_in(lake))
    program = command_name()
    for command, why in (
        (f"{program} report list", "the ready-made reports"),
        (f"{program} report security-group-changes --lake {lake}", ""),
        (f'{program} query "SELECT eventName, count(*) FROM cloudtrail GROUP BY 1" --lake {lake}', ""),
        (
            f"{program} validate {folder} --public-keys {folder}/public-keys.json",
            "prove the logs are unaltered",
        ),
    ):
        line = f"{command:<58}  # {why}" if why else command
        click.echo(f"  {line}")


def _local(root: Path) -> LocalSource:
    return LocalSource(root)
