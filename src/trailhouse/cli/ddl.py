"""`trailhouse ddl --engine athena|spark|trino`: register the lake's tables in another engine."""

from __future__ import annotations

import click

from trailhouse import ddl as statements
from trailhouse.cli.main import lake_option
from trailhouse.errors import UsageError
from trailhouse.lake import Lake, is_remote


@click.command()
@click.option("--engine", type=click.Choice(statements.ENGINES), required=True, help="Where to register.")
@lake_option
@click.option(
    "--location", help="The lake root as the engine sees it (default: --lake), e.g. s3://bucket/lake."
)
@click.option("--database", default="trailhouse", show_default=True, help="Database (schema) to create.")
@click.option("--catalog", default="delta", show_default=True, help="Trino catalog of the Delta connector.")
def ddl(engine: str, lake: str, location: str | None, database: str, catalog: str) -> None:
    """Print the statements that register the lake's Delta tables in Athena, Spark or Trino.

    Only tables present in the lake are listed. The tables are plain Delta Lake: the engines read
    the schema and partitions from each table's _delta_log. See docs/outgrowing.md.
    """
    the_lake = Lake(lake)
    root = location or the_lake.root
    if engine == "athena" and not root.startswith("s3://"):
        raise UsageError(
            f"Athena needs the lake on S3, not '{root}'\n"
            "Copy the lake to S3 (aws s3 sync) and pass --location s3://bucket/prefix."
        )
    tables = tuple(t for t in statements.TABLES if the_lake.exists(t)) or ("cloudtrail",)
    if not is_remote(root) and engine != "athena":
        root = "file://" + root if root.startswith("/") else root
    try:
        text = statements.script(engine, root, tables=tables, database=database, catalog=catalog)  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(f"Invalid name: {error}\nUse letters, digits and underscores.") from None
    click.echo(text, nl=False)
