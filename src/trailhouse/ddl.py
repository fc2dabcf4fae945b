"""Statements that register the lake's Delta tables in other engines: Athena (Glue), Spark, Trino.

The tables are plain Delta Lake, so each engine reads the schema, partitions and statistics from
the table's own `_delta_log`; the statements only name the table and where it lives.
"""

from __future__ import annotations

import re
from typing import Literal

EngineName = Literal["athena", "spark", "trino"]
ENGINES: tuple[EngineName, ...] = ("athena", "spark", "trino")
TABLES = ("cloudtrail", "cloudtrail_insights", "cloudtrail_digests", "ledger", "quarantine")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{what} must be letters, digits and underscores: {name!r}")
    return name


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_location(root: str, table: str, engine: EngineName) -> str:
    """The table's folder as the engine expects it (Spark on Hadoop wants s3a://)."""
    location = f"{root.rstrip('/')}/{table}"
    if engine == "spark" and location.startswith("s3://"):
        location = "s3a://" + location.removeprefix("s3://")
    return location + ("/" if engine == "athena" else "")


def statements(
    engine: EngineName,
    root: str,
    *,
    tables: tuple[str, ...] = TABLES,
    database: str = "trailhouse",
    catalog: str = "delta",
) -> list[str]:
    """One statement per line of work: create the database (schema), then register each table."""
    database = _check(database, "database")
    catalog = _check(catalog, "catalog")
    out: list[str] = []
    if engine == "athena":
        out.append(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        for table in tables:
            out.append(
                f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{_check(table, 'table')}`\n"
                f"LOCATION {_quote(table_location(root, table, engine))}\n"
                "TBLPROPERTIES ('table_type' = 'DELTA')"
            )
    elif engine == "spark":
        out.append(f"CREATE DATABASE IF NOT EXISTS {database}")
        for table in tables:
            out.append(
                f"CREATE TABLE IF NOT EXISTS {database}.{_check(table, 'table')}\n"
                f"USING DELTA\nLOCATION {_quote(table_location(root, table, engine))}"
            )
    elif engine == "trino":
        out.append(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{database}")
        for table in tables:
            out.append(
                f"CALL {catalog}.system.register_table(schema_name => {_quote(database)}, "
                f"table_name => {_quote(_check(table, 'table'))}, "
                f"table_location => {_quote(table_location(root, table, engine))})"
            )
    else:
        raise ValueError(f"unknown engine {engine!r}")
    return out


def script(engine: EngineName, root: str, **options: str | tuple[str, ...]) -> str:
    """The statements as one script, each ending with a semicolon, with a header comment."""
    header = {
        "athena": "-- Athena (Glue Data Catalog): Delta Lake tables; the schema comes from the _delta_log.",
        "spark": "-- Spark with Delta Lake (delta-spark, or Databricks): tables over the existing folders.",
        "trino": "-- Trino, Delta Lake connector (delta.register-table-procedure.enabled=true).",
    }[engine]
    body = statements(engine, root, **options)  # type: ignore[arg-type]
    return header + "\n" + "".join(f"{s};\n" for s in body)
