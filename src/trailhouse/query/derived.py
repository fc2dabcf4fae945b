"""Derived columns: values computed from an event's own fields that reports read often and that
cost a lot to compute per query (JSON text parsed, lists of structs unnested).

`trailhouse maintain compact` stores them in the files it writes (as `_derived_<name>`), whose
names carry mark(). For every other file (fresh from ingest, written by an earlier version, or in a
lake read through delta-rs) the query engine computes them in the table's view from the same
expressions. Either way `SELECT principal FROM cloudtrail` gives the same value. They are not in
the Delta schema: other engines read the table as before, and `trailhouse export` ignores them.
What they save is measured in docs/architecture.md.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version

_S3 = "eventSource = 's3.amazonaws.com'"
# One parse for both fields (DuckDB computes a repeated expression once).
_S3_TARGET = """json_transform(requestParameters, '{"bucketName": "VARCHAR", "key": "VARCHAR"}')"""
_IS_OBJECT = "(starts_with(r.ARN, 'arn:aws:s3:::') AND contains(r.ARN, '/'))"
_OBJECTS = f"list_filter(resources, r -> {_IS_OBJECT})"
_OTHERS = f"list_filter(resources, r -> r.ARN IS NOT NULL AND NOT {_IS_OBJECT})"
# Hash slots of S3 object ARNs. general_operations.sql computes the same slot for the entries of
# more_resources and for files that do not store it: change both together. 4,096 slots group ~4x
# faster than 65,536 (0.04 s against 0.18 s at 10M events); a slot's count still stays far below
# the top resources' (when it does not, the report counts every ARN exactly).
SLOTS = 4096


def _slot(arn: str) -> str:
    return f"(hash({arn}) % {SLOTS})::USMALLINT"


# (name, DuckDB expression over the table's own columns), per table.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "cloudtrail": (
        # the caller's ARN, else the AWS service that called, else its user name, id or type
        (
            "principal",
            "coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.userName, "
            "userIdentity.principalId, userIdentity.type)",
        ),
        # S3 calls only: requestParameters.bucketName and .key (a non-string value as JSON text)
        ("s3_bucket", f"CASE WHEN {_S3} THEN {_S3_TARGET}.bucketName END"),
        ("s3_key", f"CASE WHEN {_S3} THEN {_S3_TARGET}.key END"),
        # the key up to its last "/" ('' when it has none); parse_dirpath, ~6x cheaper than the
        # regular expression, gives the same for keys without a newline or backslash (both change
        # what it splits on) that do not start with "/"
        (
            "s3_prefix",
            f"CASE WHEN {_S3} THEN CASE WHEN contains({_S3_TARGET}.key, chr(10)) "
            f"OR contains({_S3_TARGET}.key, chr(92)) OR starts_with({_S3_TARGET}.key, '/') "
            f"THEN coalesce(regexp_extract({_S3_TARGET}.key, '^(.*)/', 1), '') "
            f"ELSE coalesce(parse_dirpath({_S3_TARGET}.key, '/'), '') END END",
        ),
        (
            "s3_bytes_in",
            f"CASE WHEN {_S3} THEN TRY_CAST(json_extract_string(additionalEventData, "
            "'$.bytesTransferredIn') AS DOUBLE) END",
        ),
        # Lambda calls only: requestParameters.functionName, else the first resource's ARN
        (
            "lambda_function",
            "CASE WHEN eventSource = 'lambda.amazonaws.com' THEN "
            "coalesce(json_extract_string(requestParameters, '$.functionName'), resources[1].ARN) END",
        ),
        # `resources` in scalars for top resources, because reading a list costs ~3x more, even
        # when it is NULL. The first entry with an ARN that is not an S3 object (ARN and type);
        # the hash slot (one of SLOTS) of the first S3 object ARN (arn:aws:s3:::bucket/key:
        # millions of nearly unique values that top resources bounds per slot instead of grouping
        # them); every other entry with an ARN as a list (NULL when none) and their number, whose
        # Parquet statistics let a query skip the row groups without any.
        ("resource_arn", f"{_OTHERS}[1].ARN"),
        ("resource_type", f"{_OTHERS}[1].type"),
        ("object_slot", f"CASE WHEN len({_OBJECTS}) > 0 THEN {_slot(f'{_OBJECTS}[1].ARN')} END"),
        (
            "more_resources",
            f"CASE WHEN len({_OTHERS}) > 1 OR len({_OBJECTS}) > 1 THEN list_transform("
            f"list_concat({_OTHERS}[2:], {_OBJECTS}[2:]), r -> {{'ARN': r.ARN, 'type': r.type}}) END",
        ),
        (
            "more_resource_count",
            f"nullif(greatest(len({_OTHERS}) - 1, 0) + greatest(len({_OBJECTS}) - 1, 0), 0)::INTEGER",
        ),
    ),
}

# A column of the view: true for rows whose derived columns compaction stored, false where the
# view computes them. Computing the resource columns costs more than reading `resources` (list
# lambdas: ~1.5 s at 10M events), so general-operations reads those only where stored.
STORED = "derived_stored"


# In the names of the files that hold the derived columns. It names the set (d2) and the DuckDB
# version whose hash() filled the object slots: after an upgrade of either, older files count as
# files without derived columns (computed in the view) until compaction rewrites them.
@cache
def mark() -> str:
    return "d2-duckdb" + version("duckdb").replace(".", "")  # a lookup left out of start-up


# Files store each derived column under this prefix, renamed by the view: a name of its own, so
# that it can never meet a column of a query written for a version without it (an older
# Trailhouse reading a newer lake sees extra columns, and its `principal` alias stays its own).
STORED_PREFIX = "_derived_"


def names(table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in COLUMNS.get(table, ()))


def select_list(table: str) -> str:
    """`expr AS name, ...` of the table's derived columns ("" when it has none)."""
    return ", ".join(f"{expression} AS {name}" for name, expression in COLUMNS.get(table, ()))


def stored_names(table: str) -> tuple[str, ...]:
    """`_derived_name, ...`: the derived columns' names in the files that store them."""
    return tuple(STORED_PREFIX + name for name in names(table))


def stored_select_list(table: str) -> str:
    """`expr AS _derived_name, ...`: the derived columns as compaction writes them."""
    expressions = (expression for _, expression in COLUMNS.get(table, ()))
    return ", ".join(f"{e} AS {stored}" for e, stored in zip(expressions, stored_names(table), strict=True))


def read_stored_list(table: str) -> str:
    """`_derived_name AS name, ...`: the stored derived columns under their names."""
    return ", ".join(
        f"{stored} AS {name}" for stored, name in zip(stored_names(table), names(table), strict=True)
    )


def file_tag(table: str) -> str | None:
    """The tag of a file name holding the current derived columns of `table`, if it has any."""
    return mark() if table in COLUMNS else None


def holds_current(path: str) -> bool:
    """Whether the file at `path` was written with the current derived columns."""
    return f".{mark()}." in path.rsplit("/", 1)[-1]
