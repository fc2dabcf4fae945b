"""The `trailhouse` command: a thin group whose subcommands load on demand (fast `--help`)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from trailhouse import __version__
from trailhouse.errors import TrailhouseError

# Arrow's C++ allocator is picked once, when pyarrow loads, so it is set here, before any command
# imports pyarrow; parser processes inherit it. The system allocator gives freed pages back (see
# trailhouse/ingest/memory.py). A user's own setting wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# name -> "module:attribute" of a click command; each module is a thin layer over the library.
COMMANDS: dict[str, str] = {
    "sample": "trailhouse.cli.sample:sample",
    "ingest": "trailhouse.cli.ingest:ingest",
    "query": "trailhouse.cli.query:query",
    "export": "trailhouse.cli.query:export",
    "status": "trailhouse.cli.status:status",
    "report": "trailhouse.cli.report:report",
    "validate": "trailhouse.cli.validate:validate",
    "maintain": "trailhouse.cli.maintain:maintain",
    "ddl": "trailhouse.cli.ddl:ddl",
    "setup": "trailhouse.cli.setup:setup",
    "serve": "trailhouse.cli.serve:serve",
    "user": "trailhouse.cli.users:user",
    "token": "trailhouse.cli.users:token",
    "grant": "trailhouse.cli.users:grant",
    "revoke": "trailhouse.cli.users:revoke",
    "demo": "trailhouse.cli.demo:demo",
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _importable(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _importable(cmd_name):
            return None
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrailhouseError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)


def _importable(name: str) -> bool:
    module_name = COMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trailhouse")
def cli() -> None:
    """Trailhouse: keep and question AWS CloudTrail logs in an open Delta Lake table.

    Start with `trailhouse demo`, or `trailhouse ingest ./logs --lake ./lake` then
    `trailhouse query "SELECT eventName, count(*) FROM cloudtrail GROUP BY 1" --lake ./lake`.
    """


def command_name() -> str:
    """How to run trailhouse from here, for hints: its name when it is on PATH, else its path (right
    after `make demo`, .venv/bin is not on PATH)."""
    script = Path(sys.executable).with_name("trailhouse")
    if shutil.which("trailhouse") or not script.exists():
        return "trailhouse"
    return os.path.relpath(script)


lake_option = click.option(
    "--lake",
    envvar="TRAILHOUSE_LAKE",
    default="./trailhouse-lake",
    show_default=True,
    help="Lake root: a folder or s3://bucket/prefix (env TRAILHOUSE_LAKE).",
)
