"""Named, parameterised reports: one SQL file per report in query/reports/, run through an Engine.

A report file is plain SQL with a header of comments and one or more sections:

    -- description: One line that `trailhouse report list` shows.
    -- param: interval = day {hour,day,week,month} Time bucket of the over-time sections.
    -- param: min_days:int = 2 Days an error must recur on to be listed.
    -- param: bucket = - Only this bucket ("-": no default).
    -- section: over_time
    SELECT ... FROM cloudtrail WHERE {filters} ... LIMIT $limit;
    -- section: top_principals
    SELECT ...

Every report takes the common parameters `since`, `until`, `account`, `region` and `limit`.
User values are always bound as DuckDB parameters (`$name`), never formatted into SQL. The only
text substitutions are structural and come from this module:

- `{filters}`: the time window and scope (`eventTime`, `event_date`, `recipientAccountId`,
  `awsRegion`) of the parameters given, or TRUE; `{period}` is its time part, `{scope}` the rest
  (a report that needs history before `since`, e.g. "new location for this user", uses them apart).
- `{geoip}`: a table `(ip, label, country, city, asn, org)` of the addresses returned by the
  report's `_geoip_ips` section.
- `{name}`: the result of the report's internal section `_name`, for the sections after it. A
  section whose name starts with `_` is not returned; reports use one to scan the events once and
  answer several sections from a small aggregate.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailhouse.errors import UsageError
from trailhouse.query import geoip

if TYPE_CHECKING:
    from trailhouse.query.engine import Engine

COMMON_PARAMS = ("since", "until", "account", "region", "limit")
_PARAM = re.compile(r"^--\s*param:\s*(\w+)(?::(int))?\s*=\s*(\S*)\s*(?:\{([^}]*)\})?\s*(.*)$")
_SECTION = re.compile(r"^--\s*section:\s*(\w+)\s*$")
_DESCRIPTION = re.compile(r"^--\s*description:\s*(.+)$")
_BOUND = re.compile(r"\$(\w+)")
_COUNTER = iter(range(1 << 62))
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReportParameter:
    """A report-specific parameter: name, default, allowed values and help."""

    name: str
    default: str | None
    help: str
    choices: tuple[str, ...] = ()
    is_int: bool = False

    def convert(self, value: str | None) -> Any:
        if value is None or value == "":
            value = self.default
        if value is None:
            return None
        if self.choices and value not in self.choices:
            raise UsageError(
                f"Invalid value '{value}' for --{self.name.replace('_', '-')}\n"
                f"Expected one of: {', '.join(self.choices)}."
            )
        if self.is_int:
            try:
                return int(value)
            except ValueError:
                raise UsageError(
                    f"Invalid value '{value}' for --{self.name.replace('_', '-')}\nExpected a whole number."
                ) from None
        return value


@dataclass(frozen=True)
class ReportSection:
    name: str
    sql: str


@dataclass(frozen=True)
class ReportSpec:
    """A report: its id, one-line description, parameter names and result sections."""

    name: str
    description: str
    params: tuple[str, ...]
    sections: tuple[str, ...]
    parameters: tuple[ReportParameter, ...] = ()
    queries: tuple[ReportSection, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class ReportParams:
    """The values of one run. Datetimes without a zone are taken as UTC; `until` is exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    account: str | None = None
    region: str | None = None
    limit: int = 100
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportResult:
    """The answer of one report: named sections, each an Arrow table, in the report's order."""

    name: str
    params: ReportParams
    sections: Mapping[str, pa.Table]

    def __getitem__(self, section: str) -> pa.Table:
        return self.sections[section]


def _reports_folder() -> Any:
    return resources.files("trailhouse.query") / "reports"


def parse_report(name: str, text: str) -> ReportSpec:
    """A ReportSpec from the text of a report file (see the module docstring for the format)."""
    description = ""
    parameters: list[ReportParameter] = []
    sections: list[ReportSection] = []
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if match := _SECTION.match(stripped):
            if current is not None:
                sections.append(ReportSection(current, "\n".join(lines).strip().rstrip(";")))
            current, lines = match.group(1), []
        elif current is None and (match := _DESCRIPTION.match(stripped)):
            description = match.group(1).strip()
        elif current is None and (match := _PARAM.match(stripped)):
            pname, kind, default, choices, help_text = match.groups()
            parameters.append(
                ReportParameter(
                    name=pname,
                    default=None if default in ("", "-") else default,
                    help=help_text.strip(),
                    choices=tuple(c.strip() for c in choices.split(",")) if choices else (),
                    is_int=kind == "int",
                )
            )
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections.append(ReportSection(current, "\n".join(lines).strip().rstrip(";")))
    if not description or not sections:
        raise ValueError(f"report file '{name}' needs a '-- description:' line and a '-- section:'")
    return ReportSpec(
        name=name,
        description=description,
        params=COMMON_PARAMS + tuple(p.name for p in parameters),
        sections=tuple(s.name for s in sections if not s.name.startswith("_")),
        parameters=tuple(parameters),
        queries=tuple(sections),
    )


_CACHE: dict[str, ReportSpec] = {}


def list_reports() -> list[ReportSpec]:
    """Every report, by name."""
    if not _CACHE:
        for entry in sorted(_reports_folder().iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".sql"):
                name = entry.name.removesuffix(".sql").replace("_", "-")
                _CACHE[name] = parse_report(name, entry.read_text())
    return list(_CACHE.values())


def get_report(name: str) -> ReportSpec:
    """The report called `name`, or a UsageError listing the names."""
    by_name = {spec.name: spec for spec in list_reports()}
    spec = by_name.get(name) or by_name.get(name.replace("_", "-"))
    if spec is None:
        raise UsageError(
            f"Unknown report '{name}'\nReports: {', '.join(sorted(by_name))}.\n"
            "Run 'trailhouse report list' to see what each one answers."
        )
    return spec


_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, flag: str = "--since", now: datetime | None = None) -> datetime:
    """A UTC datetime from "2026-11-01", an ISO time ("2026-11-01T10:00:00Z") or "7d" / "12h" ago."""
    value = text.strip()
    if match := _RELATIVE.match(value):
        ago = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - ago
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"Invalid value '{text}' for {flag}\n"
            "Expected a date (2026-11-01), an ISO time (2026-11-01T10:00:00Z) or an age (7d, 12h, 30m, 2w)."
        ) from None
    return _utc(parsed)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bindings(spec: ReportSpec, params: ReportParams) -> tuple[dict[str, Any], str, str]:
    """(values, period SQL, scope SQL) of one run."""
    unknown = set(params.extra) - {p.name for p in spec.parameters}
    if unknown:
        raise UsageError(
            f"Unknown parameter '{sorted(unknown)[0]}' for report '{spec.name}'\n"
            f"It takes: {', '.join(spec.params)}."
        )
    if params.limit < 0:
        raise UsageError(f"Invalid value '{params.limit}' for --limit\nExpected zero or more rows.")
    values: dict[str, Any] = {"limit": params.limit}
    period: list[str] = []
    scope: list[str] = []
    if params.since is not None:
        since = _utc(params.since)
        values["since"], values["since_date"] = since, since.date()
        period += ["eventTime >= $since", "event_date >= $since_date"]
    if params.until is not None:
        until = _utc(params.until)
        values["until"], values["until_date"] = until, _last_day(until)
        period += ["eventTime < $until", "event_date <= $until_date"]
    if params.since is not None and params.until is not None and _utc(params.since) >= _utc(params.until):
        raise UsageError(
            f"Empty period: --since '{params.since}' is not before --until '{params.until}'\n"
            "Pass a --since earlier than --until."
        )
    if params.account:
        values["account"] = params.account
        scope.append("recipientAccountId = $account")
    if params.region:
        values["region"] = params.region
        scope.append("awsRegion = $region")
    for parameter in spec.parameters:
        values[parameter.name] = parameter.convert(params.extra.get(parameter.name))
    return values, " AND ".join(period) or "TRUE", " AND ".join(scope) or "TRUE"


def _last_day(until: datetime) -> date:
    """The last event_date an exclusive upper time bound can include."""
    day = until.date()
    return day if until.time() != datetime.min.time() else day - timedelta(days=1)


def _render(sql: str, period: str, scope: str, tables: Mapping[str, str]) -> str:
    filters = f"({period}) AND ({scope})"
    text = sql.replace("{filters}", filters).replace("{period}", period).replace("{scope}", scope)
    for token, table in tables.items():
        text = text.replace("{" + token + "}", table)
    return text


def run_report(
    engine: Engine, name: str, params: ReportParams, *, timings: dict[str, float] | None = None
) -> ReportResult:
    """Run every section of report `name` with `params`; sections come back in file order.

    `timings`, when given, receives each section's query time in seconds (internal ones too).
    """
    spec = get_report(name)
    values, period, scope = _bindings(spec, params)
    results: dict[str, pa.Table] = {}
    tables: dict[str, str] = {}  # placeholder -> temporary table (geoip: registered Arrow table)
    try:
        for section in spec.queries:
            sql = _render(section.sql, period, scope, tables)
            bound = {key: values[key] for key in dict.fromkeys(_BOUND.findall(sql)) if key in values}
            missing = set(_BOUND.findall(sql)) - set(bound)
            if missing:
                unknown = sorted(missing)[0]
                raise UsageError(f"Report '{name}' section '{section.name}' uses unknown ${unknown}")
            started = time.perf_counter()
            if section.name == "_geoip_ips":
                addresses = engine.query(sql, bound).column(0).to_pylist()
                registered = _fresh_name()
                engine.register_arrow(registered, _geoip_table(addresses))
                tables["geoip"] = registered
            elif section.name.startswith("_"):
                kept = _fresh_name()
                engine.create_temp_table(kept, sql, bound)
                tables[section.name[1:]] = kept
            else:
                results[section.name] = engine.query(sql, bound)
            if timings is not None:
                timings[section.name] = time.perf_counter() - started
    finally:
        for placeholder, table in tables.items():
            if placeholder == "geoip":
                engine.connection.unregister(table)
            else:
                engine.drop_temp_table(table)
    return ReportResult(name=spec.name, params=params, sections=results)


def _fresh_name() -> str:
    with _LOCK:
        return f"__report_{next(_COUNTER)}"


def _geoip_table(addresses: list[str | None]) -> pa.Table:
    """The lookup table `(ip, label, country, city, asn, org)` of `addresses`."""
    rows = [geoip.lookup(address) for address in dict.fromkeys(a for a in addresses if a)]
    return pa.table(
        {
            "ip": pa.array([r.ip for r in rows], pa.string()),
            "label": pa.array([r.label for r in rows], pa.string()),
            "country": pa.array([r.country for r in rows], pa.string()),
            "city": pa.array([r.city for r in rows], pa.string()),
            "asn": pa.array([r.asn for r in rows], pa.int64()),
            "org": pa.array([r.org for r in rows], pa.string()),
        }
    )
