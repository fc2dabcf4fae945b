"""The five dashboards (after the Looker CloudTrail block): which report, which charts, and drill-down links.

A dashboard page runs one report and shows each section as a table, some also as a chart. Every
row (and every bar or point) links to the events behind it: the row's values that name a cloudtrail
column become filters of /events, the page's time range, account and region are kept.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, quote_plus, urlencode

import pyarrow as pa

from trailhouse.api import results
from trailhouse.api.params import Filters


@dataclass(frozen=True)
class Chart:
    section: str
    kind: Literal["line", "bar"]
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    report: str
    charts: tuple[Chart, ...]
    intro: str = ""
    drill_base: tuple[tuple[str, str], ...] = ()  # filters every drill-down of the page adds
    lead: tuple[str, ...] = ()  # sections shown first (what an incident responder looks at first)


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "general-operations",
        "General Operations",
        "general-operations",
        (
            Chart("over_time", "line", "period", "events", "Events over time"),
            Chart("by_service", "bar", "service", "events", "Events by service"),
            Chart("by_region", "bar", "awsRegion", "events", "Events by region"),
            Chart("by_account", "bar", "recipientAccountId", "events", "Events by account"),
        ),
        "Event activity over time, across services, regions, accounts and principals.",
    ),
    Dashboard(
        "error-overview",
        "Error Overview",
        "error-overview",
        (
            Chart("over_time", "line", "period", "errors", "Errors over time"),
            Chart("top_error_codes", "bar", "errorCode", "errors", "Top error codes"),
            Chart("by_service", "bar", "service", "errors", "Errors by service"),
        ),
        "The most common errors by code, principal and service, and errors that keep coming back.",
        (("hasError", "1"),),
    ),
    Dashboard(
        "console-logins",
        "Console Login Overview",
        "console-logins",
        (
            Chart("by_user", "bar", "user", "successes", "Successful logins by user"),
            Chart("countries", "bar", "country", "logins", "Logins by country"),
        ),
        "Console sign-ins: where from, who, failures, sign-ins without MFA, root, and new locations.",
        (("eventName", "ConsoleLogin"),),
        ("new_locations", "root_logins", "without_mfa", "countries"),
    ),
    Dashboard(
        "security-group-changes",
        "Security Group Modifications",
        "security-group-changes",
        (Chart("summary", "bar", "eventName", "changes", "Changes by action"),),
        "Who changed which security group rule; rules open to the world are flagged.",
        (("eventSource", "ec2.amazonaws.com"),),
        ("changes",),
    ),
    Dashboard(
        "account-activity",
        "Account Activity",
        "account-activity",
        (
            Chart("root_by_account", "bar", "recipientAccountId", "events", "Root activity by account"),
            Chart("iam_changes_by_account", "bar", "recipientAccountId", "changes", "IAM changes by account"),
        ),
        "Root usage, IAM changes and recurring errors, per account.",
        lead=("root_activity", "iam_changes"),
    ),
)
BY_SLUG = {d.slug: d for d in DASHBOARDS}

# Report columns that name a cloudtrail column, and the /events filter they become.
_SAME = ("eventName", "eventSource", "errorCode", "awsRegion", "recipientAccountId", "sourceIPAddress")
_INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
# A page's links repeat the same names and values (filters, services, accounts): encode each once.
_quote = functools.lru_cache(maxsize=8192)(quote_plus)


def _period_end(start: datetime, interval: str) -> datetime:
    if interval == "month":
        days = calendar.monthrange(start.year, start.month)[1]
        return start + timedelta(days=days)
    return start + _INTERVALS.get(interval, timedelta(days=1))


def drill_link(
    row: Mapping[str, Any], filters: Filters, interval: str, base: tuple[tuple[str, str], ...] = ()
) -> str | None:
    """The /events (or /events/ID) URL behind one row, or None when nothing in it narrows the events."""
    event_id = row.get("eventID")
    if isinstance(event_id, str) and event_id:
        return "/events/" + quote(event_id, safe="")
    query: dict[str, str] = {**filters.query(), **dict(base)}
    narrowed = False
    for column in _SAME:
        value = row.get(column)
        if isinstance(value, str) and value:
            query[column] = value
            narrowed = True
    service = row.get("service")
    if isinstance(service, str) and service:
        query["eventSource"] = service if "." in service else f"{service}.amazonaws.com"
        narrowed = True
    for column in ("principal", "user", "arn"):
        value = row.get(column)
        if isinstance(value, str) and value.startswith("arn:"):
            query["arn"] = value
            narrowed = True
            break
    period = row.get("period")
    if isinstance(period, datetime):
        query["since"] = period.isoformat()
        query["until"] = _period_end(period, interval).isoformat()
        narrowed = True
    if "recipientAccountId" in query:
        query.pop("account", None)
    if "awsRegion" in query:
        query.pop("region", None)
    if not narrowed:
        return None
    return "/events?" + urlencode(query, quote_via=_quote)


def country_table(by_source: pa.Table) -> pa.Table:
    """Logins per country (the dashboard's map stand-in), from the report's by_source section."""
    counts: dict[str, int] = {}
    for row in by_source.to_pylist():
        country = row.get("country") or row.get("ip_label") or "unknown"
        logins = int(row.get("successes") or 0) + int(row.get("failures") or 0)
        counts[str(country)] = counts.get(str(country), 0) + logins
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pa.table({"country": [k for k, _ in ordered], "logins": [v for _, v in ordered]})


@dataclass(frozen=True)
class SectionView:
    """One section ready for the template: columns, cells, row links and an optional chart."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    links: list[str | None]
    chart: dict[str, Any] | None


def section_view(
    name: str,
    table: pa.Table,
    chart: Chart | None,
    filters: Filters,
    interval: str,
    base: tuple[tuple[str, str], ...] = (),
) -> SectionView:
    records = table.to_pylist()
    links = [drill_link(r, filters, interval, base) for r in records]
    if name == "countries":
        links = [None] * len(records)
    data = None
    if chart is not None and records and chart.x in table.column_names:
        y = chart.y if chart.y in table.column_names else _first_numeric(table)
        if y is not None:
            pairs = records if chart.kind == "line" else records[:15]
            data = {
                "kind": chart.kind,
                "title": chart.title,
                "label": y,
                "x": [_label(r.get(chart.x)) for r in pairs],
                "y": [float(r.get(y) or 0) for r in pairs],
                "links": links[: len(pairs)],
            }
    return SectionView(
        name=name,
        title=chart.title if chart else name.replace("_", " ").capitalize(),
        columns=table.column_names,
        rows=results.rows(table, records),
        links=links,
        chart=data,
    )


def _first_numeric(table: pa.Table) -> str | None:
    for field in table.schema:
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            return str(field.name)
    return None


def _label(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.hour or value.minute else value.strftime("%Y-%m-%d")
    return "(none)" if value is None else str(value)
