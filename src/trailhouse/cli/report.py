"""`trailhouse report list` and `trailhouse report NAME`: the named reports, printed by section."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import pyarrow as pa

from trailhouse.cli.main import lake_option
from trailhouse.cli.output import FORMATS, plain, print_table
from trailhouse.errors import UsageError
from trailhouse.lake import Lake
from trailhouse.query.reports import ReportParams, ReportSpec, get_report, list_reports, parse_time


class ReportGroup(click.Group):
    """`list`, then one subcommand per report file, each with its own parameters."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["list", *(spec.name for spec in list_reports())]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "list":
            return list_command
        try:
            spec = get_report(cmd_name)
        except UsageError as error:
            raise click.UsageError(str(error).splitlines()[0] + ". " + str(error).splitlines()[1]) from None
        return _report_command(spec)


@click.group(cls=ReportGroup)
def report() -> None:
    """Named reports over the lake. `trailhouse report list` shows them.

    Run one with `trailhouse report NAME [--since D] [--until D] [--account ID] [--region R]`;
    dates are YYYY-MM-DD, an ISO time, or relative to now like 7d or 12h. docs/reports.md
    describes each report's question, sections and columns.
    """


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def list_command(fmt: str) -> None:
    """List the reports with a one-line description."""
    specs = list_reports()
    table = pa.table(
        {
            "report": [s.name for s in specs],
            "description": [s.description for s in specs],
            "sections": [", ".join(s.sections) for s in specs],
            "parameters": [", ".join(p for p in s.params) for s in specs],
        }
    )
    if fmt == "table":
        width = max(len(s.name) for s in specs)
        for spec in specs:
            click.echo(f"{spec.name.ljust(width)}  {spec.description}")
        return
    print_table(table, fmt)


def _report_command(spec: ReportSpec) -> click.Command:
    def run(**options: Any) -> None:
        _run(spec, options)

    params: list[click.Parameter] = [
        click.Option(
            ["--since"], help="Start of the period (inclusive): 2026-11-01, an ISO time, or 7d / 12h."
        ),
        click.Option(["--until"], help="End of the period (exclusive), same forms as --since."),
        click.Option(["--account"], help="Only this AWS account (recipientAccountId)."),
        click.Option(["--region"], help="Only this region (awsRegion)."),
        click.Option(["--limit"], type=int, default=100, show_default=True, help="Most rows per section."),
    ]
    for parameter in spec.parameters:
        choice = click.Choice(parameter.choices) if parameter.choices else None
        params.append(
            click.Option(
                ["--" + parameter.name.replace("_", "-"), parameter.name],
                type=choice or (int if parameter.is_int else str),
                default=None,
                help=parameter.help + (f" [default: {parameter.default}]" if parameter.default else ""),
            )
        )
    params += [
        click.Option(
            ["--section"],
            type=click.Choice(spec.sections),
            help="Print only this section.",
        ),
        click.Option(["--format", "fmt"], type=click.Choice(FORMATS), default="table", show_default=True),
    ]
    command = click.Command(spec.name, callback=run, params=params, help=spec.description)
    lake_option(command)
    return command


def _run(spec: ReportSpec, options: dict[str, Any]) -> None:
    from trailhouse.query.engine import Engine  # duckdb loads only when a report runs
    from trailhouse.query.reports import run_report

    extra = {p.name: str(options[p.name]) for p in spec.parameters if options.get(p.name) is not None}
    params = ReportParams(
        since=parse_time(options["since"], "--since") if options.get("since") else None,
        until=parse_time(options["until"], "--until") if options.get("until") else None,
        account=options.get("account"),
        region=options.get("region"),
        limit=options["limit"],
        extra=extra,
    )
    lake = Lake(options["lake"])
    lake.require("cloudtrail_insights" if spec.name == "insights" else "cloudtrail")
    engine = Engine(lake)
    try:
        result = run_report(engine, spec.name, params)
    finally:
        engine.close()
    sections = {k: v for k, v in result.sections.items() if options.get("section") in (None, k)}
    _print(spec.name, sections, options["fmt"])


def _print(name: str, sections: dict[str, pa.Table], fmt: str) -> None:
    out = sys.stdout
    if fmt == "jsonl":
        for section, table in sections.items():
            for row in table.to_pylist():
                out.write(json.dumps({"section": section, **plain(row)}, ensure_ascii=False) + "\n")
    elif fmt == "json":
        body = {
            "report": name,
            "sections": {s: [plain(r) for r in t.to_pylist()] for s, t in sections.items()},
        }
        out.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    else:
        for index, (section, table) in enumerate(sections.items()):
            if len(sections) > 1:
                if index:
                    out.write("\n")
                out.write(f"# {section}\n" if fmt == "csv" else f"== {section} ==\n")
            print_table(table, fmt, out)
