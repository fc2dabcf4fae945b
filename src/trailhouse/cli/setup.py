"""`trailhouse setup notifications`: create the SNS topic and SQS queues that announce new log files."""

from __future__ import annotations

import click

from trailhouse.cli.main import lake_option


@click.group()
def setup() -> None:
    """Create the AWS resources Trailhouse reads from."""


@setup.command()
@click.option("--bucket", required=True, help="The bucket CloudTrail delivers to.")
@click.option("--prefix", default="", help="Only objects under this key prefix (the trail's S3 prefix).")
@click.option("--name", help="Name of the topic and queue [default: trailhouse-<bucket>].")
@click.option("--region", help="Region of the topic and queues [default: AWS_REGION or the profile's].")
@click.option(
    "--max-receives",
    type=int,
    default=5,
    show_default=True,
    help="Receives before Trailhouse quarantines a message; the dead-letter queue takes it after one more.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; create nothing.")
@lake_option
def notifications(
    bucket: str,
    prefix: str,
    name: str | None,
    region: str | None,
    max_receives: int,
    dry_run: bool,
    lake: str,
) -> None:
    """Bucket -> SNS topic -> SQS queue (+ dead-letter queue), created if missing; safe to re-run."""
    from trailhouse.sources.notifications_setup import setup_notifications

    result = setup_notifications(
        bucket, prefix=prefix, name=name, region=region, max_receives=max_receives, dry_run=dry_run
    )
    verbs = {"create": "would create" if dry_run else "created", "exists": "exists", "update": "updated"}
    if dry_run:
        verbs["update"] = "would update"
        click.echo("Plan (dry run, nothing created):")
    for step in result.steps:
        click.echo(f"  {verbs[step.action]:<13} {step.resource:<24} {step.name}")
    click.echo(f"queue {result.queue_url}")
    click.echo(
        f"To use CloudTrail's own notifications instead, set the trail's SNS topic to {result.topic_arn}"
    )
    click.echo("Then run:")
    click.echo(f"  {result.ingest_command(lake)}")
