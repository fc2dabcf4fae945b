"""Documentation stays true: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from trailhouse.cli.main import COMMANDS, cli
from trailhouse.config import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_document_every_setting() -> None:
    text = (DOCS / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"| `{setting.name}` | `{setting.env}` |" in text, setting.name


def test_docs_cli_reference_covers_every_command() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in COMMANDS:
        assert f"## trailhouse {command}" in text, command
        assert CliRunner().invoke(cli, [command, "--help"]).exit_code == 0, command
