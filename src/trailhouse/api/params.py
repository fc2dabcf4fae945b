"""Query-string parameters shared by the report API and the dashboard: time range, account, region."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from trailhouse.errors import UsageError

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
COMMON = ("since", "until", "account", "region", "limit")


@dataclass(frozen=True)
class Filters:
    """The filters of a dashboard page or report request, as given (text) and parsed."""

    since_text: str = ""
    until_text: str = ""
    account: str | None = None
    region: str | None = None
    limit: int = 100
    since: datetime | None = None
    until: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The filters as query-string pairs (for links that keep them)."""
        out = {"since": self.since_text, "until": self.until_text}
        out["account"] = self.account or ""
        out["region"] = self.region or ""
        return {k: v for k, v in out.items() if v}


def parse_filters(values: Mapping[str, str], *, default_since: str = "", max_limit: int = 1000) -> Filters:
    """Filters from query-string values; UsageError (HTTP 400) with the bad value quoted."""
    from trailhouse.query.reports import parse_time

    since_text = values.get("since", default_since).strip()
    until_text = values.get("until", "").strip()
    account = values.get("account", "").strip() or None
    region = values.get("region", "").strip() or None
    if account is not None and not _ACCOUNT.fullmatch(account):
        raise UsageError(f"Invalid value '{account}' for account\nExpected a 12-digit AWS account id.")
    if region is not None and not _REGION.fullmatch(region):
        raise UsageError(f"Invalid value '{region}' for region\nExpected a region name such as eu-west-1.")
    limit_text = values.get("limit", "100").strip() or "100"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= max_limit:
        raise UsageError(
            f"Invalid value '{limit_text}' for limit\nExpected a whole number from 1 to {max_limit}."
        )
    extra = {k: v for k, v in values.items() if k not in COMMON and v != ""}
    return Filters(
        since_text=since_text,
        until_text=until_text,
        account=account,
        region=region,
        limit=int(limit_text),
        since=parse_time(since_text, "since") if since_text else None,
        until=parse_time(until_text, "until") if until_text else None,
        extra=extra,
    )


def report_params(filters: Filters, extra: Mapping[str, str] | None = None) -> object:
    from trailhouse.query.reports import ReportParams

    return ReportParams(
        since=filters.since,
        until=filters.until,
        account=filters.account,
        region=filters.region,
        limit=filters.limit,
        extra=dict(extra if extra is not None else filters.extra),
    )
