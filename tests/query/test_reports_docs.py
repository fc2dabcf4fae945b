"""docs/reports.md describes every report: its heading, each section and each parameter."""

from __future__ import annotations

from pathlib import Path

from trailhouse.query.reports import list_reports

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def test_reports_doc_describes_every_report_section_and_parameter() -> None:
    text = DOC.read_text()
    for spec in list_reports():
        assert f"## {spec.name}\n" in text, spec.name
        body = text.split(f"## {spec.name}\n", 1)[1].split("\n## ", 1)[0]
        for section in spec.sections:
            assert f"| `{section}` |" in body, (spec.name, section)
        for parameter in spec.parameters:
            assert f"`--{parameter.name.replace('_', '-')}`" in body, (spec.name, parameter.name)
