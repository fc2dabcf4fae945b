"""Each report's question answered again in plain Python over the raw .json.gz files (gzip + json).

Nothing here uses DuckDB, the lake or the report SQL: only the CloudTrail records as delivered, and
the GeoIP lookup (the same database, so the comparison is about the report logic).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trailhouse.query import geoip

Rec = dict[str, Any]
Rows = dict[tuple[Any, ...], tuple[Any, ...]]


def read_bucket(root: Path) -> tuple[list[Rec], list[Rec]]:
    """(events, insights) of every CloudTrail log file under `root`, each event once."""
    events: dict[tuple[str, str], Rec] = {}
    insights: dict[tuple[str, str], Rec] = {}
    for path in sorted(root.rglob("*.json.gz")):
        parts = path.parts
        if "CloudTrail" in parts:
            target = events
        elif "CloudTrail-Insight" in parts:
            target = insights
        else:
            continue
        with gzip.open(path, "rb") as handle:
            for record in json.load(handle)["Records"]:
                record["_time"] = datetime.fromisoformat(
                    record["eventTime"].replace("Z", "+00:00")
                ).astimezone(UTC)
                target.setdefault((record["recipientAccountId"], record["eventID"]), record)
    return list(events.values()), list(insights.values())


def first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def ui(r: Rec) -> Rec:
    return r.get("userIdentity") or {}


def principal(r: Rec) -> Any:
    u = ui(r)
    return first(u.get("arn"), u.get("invokedBy"), u.get("userName"), u.get("principalId"), u.get("type"))


def login_user(r: Rec) -> Any:
    u = ui(r)
    return first(u.get("arn"), u.get("userName"), u.get("principalId"), u.get("type"))


def service(r: Rec) -> str:
    return str(r.get("eventSource")).replace(".amazonaws.com", "")


def day(r: Rec) -> datetime:
    return r["_time"].replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def obj(r: Rec, field: str) -> Rec:
    value = r.get(field)
    return value if isinstance(value, dict) else {}


def text(value: Any) -> Any:
    """json_extract_string: strings as they are, other JSON values as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def group(
    records: Iterable[Rec], key: Callable[[Rec], tuple[Any, ...]], **values: Callable[[list[Rec]], Any]
) -> Rows:
    groups: dict[tuple[Any, ...], list[Rec]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return {k: tuple(f(rs) for f in values.values()) for k, rs in groups.items()}


def n(rs: list[Rec]) -> int:
    return len(rs)


def errors(rs: list[Rec]) -> int:
    return sum(1 for r in rs if r.get("errorCode") is not None)


def distinct(f: Callable[[Rec], Any]) -> Callable[[list[Rec]], int]:
    return lambda rs: len({f(r) for r in rs if f(r) is not None})


def identity_types(rs: list[Rec]) -> str | None:
    """The distinct userIdentity types of the records, sorted and joined (None when none has one)."""
    types = sorted({t for r in rs if (t := (r.get("userIdentity") or {}).get("type")) is not None})
    return ", ".join(types) if types else None


def tmin(rs: list[Rec]) -> datetime:
    return min(r["_time"] for r in rs)


def tmax(rs: list[Rec]) -> datetime:
    return max(r["_time"] for r in rs)


def rate(rs: list[Rec]) -> float:
    return round(errors(rs) / len(rs), 6)


# --- one function per report: section -> {key: values} ------------------------------------------


def general_operations(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    resources = [
        {"arn": res.get("ARN")}
        for r in events
        for res in (r.get("resources") or [])
        if res.get("ARN") is not None
    ]
    return {
        "over_time": group(
            events,
            lambda r: (day(r),),
            events=n,
            errors=errors,
            accounts=distinct(lambda r: r["recipientAccountId"]),
        ),
        "by_service": group(
            events,
            lambda r: (service(r),),
            events=n,
            errors=errors,
            actions=distinct(lambda r: r["eventName"]),
        ),
        "by_region": group(events, lambda r: (r["awsRegion"],), events=n, errors=errors),
        "by_account": group(events, lambda r: (r["recipientAccountId"],), events=n, errors=errors),
        "by_principal": group(
            events, lambda r: (principal(r),), types=identity_types, events=n, errors=errors
        ),
        "top_events": group(events, lambda r: (service(r), r["eventName"]), events=n),
        "top_resources": group(resources, lambda r: (r["arn"],), events=n),
    }


def error_overview(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    failed = [r for r in events if r.get("errorCode") is not None]
    by_service = group(
        events,
        lambda r: (service(r),),
        events=n,
        errors=errors,
        error_rate=rate,
        error_codes=distinct(lambda r: r.get("errorCode")),
    )
    recurring = group(
        failed,
        lambda r: (r["errorCode"], service(r), r["eventName"], principal(r)),
        errors=n,
        days=distinct(day),
        first_seen=tmin,
        last_seen=tmax,
    )
    return {
        "over_time": group(events, lambda r: (day(r),), events=n, errors=errors, error_rate=rate),
        "top_error_codes": group(
            failed,
            lambda r: (r["errorCode"],),
            errors=n,
            principals=distinct(principal),
            services=distinct(lambda r: r["eventSource"]),
        ),
        "by_principal": group(failed, lambda r: (principal(r), r["errorCode"]), errors=n),
        "by_service": {k: v for k, v in by_service.items() if v[1] > 0},
        "recurring": {k: v for k, v in recurring.items() if v[1] >= 2},
    }


def _logins(events: list[Rec]) -> list[Rec]:
    logins = sorted(
        (
            r
            for r in events
            if r["eventName"] == "ConsoleLogin" and r["eventSource"] == "signin.amazonaws.com"
        ),
        key=lambda r: (r["_time"], r["eventID"]),
    )
    seen_user: Counter[Any] = Counter()
    seen_here: Counter[Any] = Counter()
    for r in logins:
        info = geoip.lookup(r.get("sourceIPAddress"))
        r["_geo"] = info
        r["_user"] = login_user(r)
        r["_result"] = obj(r, "responseElements").get("ConsoleLogin") or "Unknown"
        r["_mfa"] = obj(r, "additionalEventData").get("MFAUsed")
        r["_location"] = first(info.country, info.label, "missing")
        seen_user[r["_user"]] += 1
        seen_here[(r["_user"], r["_location"])] += 1
        r["_new"] = seen_here[(r["_user"], r["_location"])] == 1 and seen_user[r["_user"]] > 1
        flags = [
            "failure" if r["_result"] == "Failure" else None,
            "root" if ui(r).get("type") == "Root" else None,
            "no-mfa" if r["_result"] == "Success" and r["_mfa"] == "No" else None,
            "new-location" if r["_new"] else None,
            "first-login" if seen_user[r["_user"]] == 1 else None,
        ]
        r["_flags"] = [f for f in flags if f]
    return logins


def console_logins(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    logins = _logins(events)

    def success(r: Rec) -> bool:
        return r["_result"] == "Success"

    def geo(r: Rec) -> tuple[Any, ...]:
        return (r["_geo"].country, r["_geo"].city)

    return {
        "logins": {
            (r["_time"], r["_user"], r["sourceIPAddress"]): (r["_result"], r["_mfa"], *geo(r), r["_flags"])
            for r in logins
        },
        "by_user": group(
            logins,
            lambda r: (r["_user"],),
            successes=lambda rs: sum(1 for r in rs if success(r)),
            failures=lambda rs: sum(1 for r in rs if r["_result"] == "Failure"),
            without_mfa=lambda rs: sum(1 for r in rs if success(r) and r["_mfa"] == "No"),
            first_login=tmin,
            last_login=tmax,
        ),
        "without_mfa": {(r["_time"], r["_user"]): geo(r) for r in logins if success(r) and r["_mfa"] == "No"},
        "root_logins": {
            (r["_time"], r["recipientAccountId"]): (r["_result"], *geo(r), r["_geo"].asn)
            for r in logins
            if ui(r).get("type") == "Root"
        },
        "by_source": group(
            logins,
            lambda r: (r.get("sourceIPAddress"),),
            country=lambda rs: rs[0]["_geo"].country,
            successes=lambda rs: sum(1 for r in rs if success(r)),
            failures=lambda rs: sum(1 for r in rs if r["_result"] == "Failure"),
            users=distinct(lambda r: r["_user"]),
        ),
        "first_seen_locations": group(
            logins, lambda r: (r["_user"], r["_location"]), first_seen=tmin, last_seen=tmax, logins=n
        ),
        "new_locations": {
            (r["_time"], r["_user"]): (r["_location"], r["sourceIPAddress"]) for r in logins if r["_new"]
        },
    }


SG_EVENTS = {
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "ModifySecurityGroupRules",
}


def _cidrs(r: Rec) -> list[str]:
    items = (obj(r, "requestParameters").get("ipPermissions") or {}).get("items") or []
    v4 = [x.get("cidrIp") for p in items for x in ((p.get("ipRanges") or {}).get("items") or [])]
    v6 = [x.get("cidrIpv6") for p in items for x in ((p.get("ipv6Ranges") or {}).get("items") or [])]
    return [c for c in v4 if c is not None] + [c for c in v6 if c is not None]


def _open(r: Rec) -> bool:
    return bool({"0.0.0.0/0", "::/0"} & set(_cidrs(r)))


def security_group_changes(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    changes = [r for r in events if r["eventSource"] == "ec2.amazonaws.com" and r["eventName"] in SG_EVENTS]
    return {
        "changes": {
            (r["_time"], r["eventName"], principal(r)): (
                first(obj(r, "requestParameters").get("groupId"), obj(r, "responseElements").get("groupId")),
                _cidrs(r),
                _open(r),
            )
            for r in changes
        },
        "summary": group(
            changes,
            lambda r: (r["eventName"],),
            changes=n,
            failed=errors,
            open_to_world=lambda rs: sum(map(_open, rs)),
            principals=distinct(principal),
        ),
        "by_principal": group(
            changes,
            lambda r: (principal(r),),
            changes=n,
            open_to_world=lambda rs: sum(map(_open, rs)),
            accounts=distinct(lambda r: r["recipientAccountId"]),
        ),
    }


def _category(name: str) -> str:
    for needle, category in (
        ("AccessKey", "access_key"),
        ("Policy", "policy"),
        ("LoginProfile", "login_profile"),
        ("MFA", "mfa"),
        ("Role", "role"),
        ("Group", "group"),
        ("User", "user"),
    ):
        if needle in name:
            return category
    return "other"


def account_activity(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    root = [r for r in events if ui(r).get("type") == "Root"]
    iam = [
        r
        for r in events
        if r["eventSource"] == "iam.amazonaws.com"
        and not r["eventName"].startswith(("Get", "List", "Generate", "Simulate"))
    ]
    failed = [r for r in events if r.get("errorCode") is not None]
    recurring = group(
        failed,
        lambda r: (r["recipientAccountId"], r["errorCode"], service(r), r["eventName"]),
        errors=n,
        days=distinct(day),
    )

    def target(r: Rec) -> Any:
        p = obj(r, "requestParameters")
        return text(
            first(*(p.get(k) for k in ("userName", "roleName", "groupName", "policyArn", "policyName")))
        )

    return {
        "root_by_account": group(
            root,
            lambda r: (r["recipientAccountId"],),
            events=n,
            errors=errors,
            first_seen=tmin,
            last_seen=tmax,
        ),
        "root_activity": {
            (r["_time"], r["recipientAccountId"], r["eventName"]): (r.get("errorCode"),) for r in root
        },
        "iam_changes": {
            (r["_time"], r["recipientAccountId"], r["eventName"]): (
                _category(r["eventName"]),
                principal(r),
                target(r),
            )
            for r in iam
        },
        "iam_changes_by_account": group(
            iam, lambda r: (r["recipientAccountId"], _category(r["eventName"])), changes=n, failed=errors
        ),
        "recurring_errors": {k: v for k, v in recurring.items() if v[1] >= 2},
    }


ASSUME = {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}


def _role(r: Rec) -> Any:
    arn = obj(r, "requestParameters").get("roleArn")
    if arn is None:
        session = (obj(r, "responseElements").get("assumedRoleUser") or {}).get("arn")
        if session:
            head, _, rest = session.partition(":assumed-role/")
            partition_account = head.split(":")
            arn = f"arn:{partition_account[1]}:iam::{partition_account[4]}:role/{rest.split('/')[0]}"
    return arn


def _assumer(r: Rec) -> Any:
    u, resp = ui(r), obj(r, "responseElements")
    return first(
        u.get("arn"),
        u.get("invokedBy"),
        resp.get("subject"),
        resp.get("subjectFromWebIdentityToken"),
        u.get("userName"),
        u.get("principalId"),
        u.get("type"),
    )


def role_usage(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    rows = [r for r in events if r["eventSource"] == "sts.amazonaws.com" and r["eventName"] in ASSUME]
    return {
        "by_role": group(
            rows,
            lambda r: (_role(r),),
            assumptions=n,
            failures=errors,
            assumers=distinct(_assumer),
            first_seen=tmin,
            last_seen=tmax,
        ),
        "by_assumer": group(
            rows, lambda r: (_assumer(r), _role(r), r["eventName"]), assumptions=n, failures=errors
        ),
        "sessions": {
            (r["_time"], r["eventName"], _assumer(r)): (
                _role(r),
                (obj(r, "responseElements").get("assumedRoleUser") or {}).get("arn"),
            )
            for r in rows
        },
    }


def identities(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    return {
        "principals": group(
            events,
            lambda r: (principal(r),),
            first_seen=tmin,
            last_seen=tmax,
            events=n,
            errors=errors,
            accounts=lambda rs: sorted({r["recipientAccountId"] for r in rs}),
            services=distinct(lambda r: r["eventSource"]),
        ),
        "by_type": group(
            events, lambda r: (ui(r).get("type"),), principals=distinct(principal), events=n, errors=errors
        ),
    }


WRITES = {
    "PutObject": "write",
    "CompleteMultipartUpload": "write",
    "CopyObject": "copy",
    "DeleteObject": "delete",
    "DeleteObjects": "delete",
}


def _s3_writes(events: list[Rec]) -> list[Rec]:
    rows = []
    for r in events:
        if (
            r["eventSource"] != "s3.amazonaws.com"
            or r.get("errorCode") is not None
            or r["eventName"] not in WRITES
        ):
            continue
        params = obj(r, "requestParameters")
        key = text(params.get("key"))
        prefix = key.rsplit("/", 1)[0] if key and "/" in key else ""
        segments = prefix.split("/") if prefix else []
        at = next((i for i, s in enumerate(segments) if "=" in s), len(segments))
        rows.append(
            {
                **r,
                "_action": WRITES[r["eventName"]],
                "_bucket": text(params.get("bucketName")),
                "_key": key,
                "_prefix": prefix,
                "_table": "/".join(segments[:at]),
                "_partition": "/".join(s for s in segments if "=" in s),
            }
        )
    return rows


def _actions(**extra: Callable[[list[Rec]], Any]) -> dict[str, Callable[[list[Rec]], Any]]:
    return {
        "events": n,
        "writes": lambda rs: sum(1 for r in rs if r["_action"] == "write"),
        "copies": lambda rs: sum(1 for r in rs if r["_action"] == "copy"),
        "deletes": lambda rs: sum(1 for r in rs if r["_action"] == "delete"),
        **extra,
    }


def s3_writes(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    rows = _s3_writes(events)
    objects = distinct(lambda r: r["_key"])
    return {
        "by_bucket": group(
            rows, lambda r: (r["_bucket"],), **_actions(objects=objects, principals=distinct(principal))
        ),
        "by_prefix": group(rows, lambda r: (r["_bucket"], r["_prefix"]), **_actions(objects=objects)),
        "partitions": group(
            [r for r in rows if r["_partition"]],
            lambda r: (r["_bucket"], r["_table"], r["_partition"]),
            **_actions(objects=objects, first_seen=tmin, last_seen=tmax),
        ),
        "by_principal": group(rows, lambda r: (principal(r), r["_bucket"]), **_actions()),
    }


def _denied(r: Rec) -> bool:
    code = (r.get("errorCode") or "").lower()
    return "accessdenied" in code or "unauthorized" in code


def access_denied(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    denied = [r for r in events if _denied(r)]
    return {
        "over_time": group(denied, lambda r: (day(r),), denied=n, principals=distinct(principal)),
        "by_principal": group(
            denied,
            lambda r: (principal(r),),
            denied=n,
            actions=distinct(lambda r: r["eventName"]),
            services=distinct(lambda r: r["eventSource"]),
            first_seen=tmin,
            last_seen=tmax,
        ),
        "by_action": group(
            denied,
            lambda r: (service(r), r["eventName"], r["errorCode"]),
            denied=n,
            principals=distinct(principal),
        ),
        "recent": {
            (r["_time"], r["recipientAccountId"], principal(r), r["eventName"]): (r["errorCode"],)
            for r in denied
        },
    }


def data_access(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    s3 = [r for r in events if r["eventSource"] == "s3.amazonaws.com" and r.get("eventCategory") == "Data"]
    invokes = [r for r in events if r["eventSource"] == "lambda.amazonaws.com" and r["eventName"] == "Invoke"]

    def bucket(r: Rec) -> Any:
        return text(obj(r, "requestParameters").get("bucketName"))

    def function(r: Rec) -> Any:
        resources = r.get("resources") or [{}]
        return first(
            text(obj(r, "requestParameters").get("functionName")),
            resources[0].get("ARN") if resources else None,
        )

    rw = {
        "reads": lambda rs: sum(1 for r in rs if r.get("readOnly") is True),
        "writes": lambda rs: sum(1 for r in rs if r.get("readOnly") is False),
        "errors": errors,
    }
    return {
        "s3_by_principal": group(
            s3,
            lambda r: (principal(r), bucket(r)),
            **rw,
            objects=distinct(lambda r: text(obj(r, "requestParameters").get("key"))),
        ),
        "s3_by_bucket": group(s3, lambda r: (bucket(r),), **rw, principals=distinct(principal)),
        "s3_by_action": group(
            s3, lambda r: (r["eventName"],), events=n, errors=errors, principals=distinct(principal)
        ),
        "lambda_invocations": group(
            invokes, lambda r: (function(r), principal(r)), invocations=n, errors=errors
        ),
    }


def insights_report(events: list[Rec], insights: list[Rec]) -> dict[str, Rows]:
    def details(r: Rec) -> Rec:
        return obj(r, "insightDetails")

    def stats(r: Rec) -> Rec:
        return (details(r).get("insightContext") or {}).get("statistics") or {}

    def average(r: Rec, which: str) -> Any:
        value = (stats(r).get(which) or {}).get("average")
        return None if value is None else float(value)

    attributions: Counter[tuple[Any, ...]] = Counter()
    for r in insights:
        for a in (details(r).get("insightContext") or {}).get("attributions") or []:
            for v in a.get("insight") or []:
                key = (
                    r["_time"],
                    details(r).get("eventName"),
                    a.get("attribute"),
                    text(v.get("value")),
                    float(v["average"]),
                )
                attributions[key] += 1
    return {
        "insights": {
            (r["_time"], r["recipientAccountId"], details(r).get("state"), details(r).get("eventName")): (
                details(r).get("insightType"),
                average(r, "baseline"),
                average(r, "insight"),
            )
            for r in insights
        },
        "attributions": {k: (c,) for k, c in attributions.items()},
        "by_event": group(
            insights,
            lambda r: (
                details(r).get("eventSource"),
                details(r).get("eventName"),
                details(r).get("insightType"),
            ),
            insights=lambda rs: sum(1 for r in rs if details(r).get("state") == "Start"),
            first_seen=tmin,
            last_seen=tmax,
        ),
    }


ORACLES: dict[str, Callable[[list[Rec], list[Rec]], dict[str, Rows]]] = {
    "general-operations": general_operations,
    "error-overview": error_overview,
    "console-logins": console_logins,
    "security-group-changes": security_group_changes,
    "account-activity": account_activity,
    "role-usage": role_usage,
    "identities": identities,
    "s3-writes": s3_writes,
    "access-denied": access_denied,
    "data-access": data_access,
    "insights": insights_report,
}

# How to read each SQL section into the same {key: values} shape: (key columns, value columns).
SHAPES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "general-operations": {
        "over_time": (("period",), ("events", "errors", "accounts")),
        "by_service": (("service",), ("events", "errors", "actions")),
        "by_region": (("awsRegion",), ("events", "errors")),
        "by_account": (("recipientAccountId",), ("events", "errors")),
        "by_principal": (("principal",), ("principal_type", "events", "errors")),
        "top_events": (("service", "eventName"), ("events",)),
        "top_resources": (("resource",), ("events",)),
    },
    "error-overview": {
        "over_time": (("period",), ("events", "errors", "error_rate")),
        "top_error_codes": (("errorCode",), ("errors", "principals", "services")),
        "by_principal": (("principal", "errorCode"), ("errors",)),
        "by_service": (("service",), ("events", "errors", "error_rate", "error_codes")),
        "recurring": (
            ("errorCode", "service", "eventName", "principal"),
            ("errors", "days", "first_seen", "last_seen"),
        ),
    },
    "console-logins": {
        "logins": (
            ("eventTime", "user", "sourceIPAddress"),
            ("result", "mfa_used", "country", "city", "flags"),
        ),
        "by_user": (("user",), ("successes", "failures", "without_mfa", "first_login", "last_login")),
        "without_mfa": (("eventTime", "user"), ("country", "city")),
        "root_logins": (("eventTime", "recipientAccountId"), ("result", "country", "city", "asn")),
        "by_source": (("sourceIPAddress",), ("country", "successes", "failures", "users")),
        "first_seen_locations": (("user", "location"), ("first_seen", "last_seen", "logins")),
        "new_locations": (("eventTime", "user"), ("location", "sourceIPAddress")),
    },
    "security-group-changes": {
        "changes": (("eventTime", "eventName", "principal"), ("group_id", "cidrs", "open_to_world")),
        "summary": (("eventName",), ("changes", "failed", "open_to_world", "principals")),
        "by_principal": (("principal",), ("changes", "open_to_world", "accounts")),
    },
    "account-activity": {
        "root_by_account": (("recipientAccountId",), ("events", "errors", "first_seen", "last_seen")),
        "root_activity": (("eventTime", "recipientAccountId", "eventName"), ("errorCode",)),
        "iam_changes": (
            ("eventTime", "recipientAccountId", "eventName"),
            ("category", "principal", "target"),
        ),
        "iam_changes_by_account": (("recipientAccountId", "category"), ("changes", "failed")),
        "recurring_errors": (("recipientAccountId", "errorCode", "service", "eventName"), ("errors", "days")),
    },
    "role-usage": {
        "by_role": (("role",), ("assumptions", "failures", "assumers", "first_seen", "last_seen")),
        "by_assumer": (("assumer", "role", "eventName"), ("assumptions", "failures")),
        "sessions": (("eventTime", "eventName", "assumer"), ("role", "session")),
    },
    "identities": {
        "principals": (
            ("principal",),
            ("first_seen", "last_seen", "events", "errors", "accounts", "services"),
        ),
        "by_type": (("principal_type",), ("principals", "events", "errors")),
    },
    "s3-writes": {
        "by_bucket": (("bucket",), ("events", "writes", "copies", "deletes", "objects", "principals")),
        "by_prefix": (("bucket", "prefix"), ("events", "writes", "copies", "deletes", "objects")),
        "partitions": (
            ("bucket", "table_path", "partition"),
            ("events", "writes", "copies", "deletes", "objects", "first_seen", "last_seen"),
        ),
        "by_principal": (("principal", "bucket"), ("events", "writes", "copies", "deletes")),
    },
    "access-denied": {
        "over_time": (("period",), ("denied", "principals")),
        "by_principal": (("principal",), ("denied", "actions", "services", "first_seen", "last_seen")),
        "by_action": (("service", "eventName", "errorCode"), ("denied", "principals")),
        "recent": (("eventTime", "recipientAccountId", "principal", "eventName"), ("errorCode",)),
    },
    "data-access": {
        "s3_by_principal": (("principal", "bucket"), ("reads", "writes", "errors", "objects")),
        "s3_by_bucket": (("bucket",), ("reads", "writes", "errors", "principals")),
        "s3_by_action": (("eventName",), ("events", "errors", "principals")),
        "lambda_invocations": (("function", "principal"), ("invocations", "errors")),
    },
    "insights": {
        "insights": (
            ("eventTime", "recipientAccountId", "state", "eventName"),
            ("insightType", "baseline_average", "insight_average"),
        ),
        "attributions": (("eventTime", "eventName", "attribute", "value", "insight_average"), ()),
        "by_event": (("eventSource", "eventName", "insightType"), ("insights", "first_seen", "last_seen")),
    },
}
