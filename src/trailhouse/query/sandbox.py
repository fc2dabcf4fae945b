"""The SQL sandbox's first wall: which statements a signed-in user may run.

A statement is parsed with sqlglot (DuckDB dialect) and accepted only if it is one read-only
query (SELECT, WITH, set operations) whose every table reference is a relation the caller may
query, with no table functions, no file or URL reads, no system functions and no recursion. The
accepted statement is re-generated from the checked tree, so what runs is what was checked. The
second wall is DuckDB itself (a sandboxed `Engine`: no file or network access, settings locked,
time and row limits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from trailhouse.errors import QueryRefusedError


class NotGrantedError(QueryRefusedError):
    """The statement names a relation the caller has no grant on (HTTP 403)."""


# Functions that touch files, URLs, extensions, settings or the catalog's internals.
_DENIED_FUNCTIONS = re.compile(
    r"^(read_.*|.*_scan|glob|sniff_csv|parquet_.*|getenv|current_setting|duckdb_.*|pragma_.*|"
    r"load_extension|which_secret|query|query_table|iceberg_.*|delta_.*|sqlite_.*|postgres_.*|"
    r"mysql_.*|json_execute_serialized_sql|sql_auto_complete|checkpoint|force_checkpoint|"
    r"enable_.*|disable_.*|set_.*|getvariable|write_.*|export_.*|import_.*|install_.*|"
    r"test_all_types|test_vector_types|summary|repeat_row|arrow_scan.*|"
    r"current_database|current_catalog|current_schema|current_schemas)$"
)
_READ_ONLY = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)


@dataclass(frozen=True)
class CheckedStatement:
    sql: str  # the statement to run, re-generated from the checked tree
    relations: tuple[str, ...]  # relations read (not CTE names), lower case, sorted
    functions: tuple[str, ...]  # function names called, lower case, sorted


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def check_statement(sql: str, may_query: Callable[[str], bool]) -> CheckedStatement:
    """Accept one read-only statement over allowed relations, or raise QueryRefusedError."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as error:
        first = str(error).splitlines()[0] if str(error) else "syntax error"
        raise QueryRefusedError(
            f"Statement refused: it could not be parsed ({first})\nCheck the SQL syntax (DuckDB dialect)."
        ) from None
    if len(statements) != 1:
        raise QueryRefusedError(
            f"Statement refused: {len(statements)} statements were sent, one is allowed\n"
            "Send one SELECT per request, without a separating ';'."
        )
    tree = statements[0]
    if not isinstance(tree, _READ_ONLY):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise QueryRefusedError(
            f"Statement refused: '{kind}' is not allowed, only read-only queries\n"
            "Use SELECT (or WITH ... SELECT); files, settings, extensions and databases are off limits."
        )
    for with_ in tree.find_all(exp.With):
        if with_.args.get("recursive"):
            raise QueryRefusedError(
                "Statement refused: 'WITH RECURSIVE' is not allowed (unbounded recursion)\n"
                "Rewrite it without recursion; the reports cover most questions that need it."
            )
    functions = set()
    for func in tree.find_all(exp.Func):
        name = _function_name(func)
        functions.add(name)
        if _DENIED_FUNCTIONS.match(name):
            raise QueryRefusedError(
                f"Statement refused: the function '{name}' is not allowed "
                "(it reads files, URLs, settings or the catalog)\n"
                "Query the tables and views you were granted (GET /api/tables lists them)."
            )
    ctes = {str(cte.alias).lower() for cte in tree.find_all(exp.CTE)}
    relations = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryRefusedError(
                f"Statement refused: table functions are not allowed ('{table.this.sql(dialect='duckdb')}')\n"
                "Read from the tables and views you were granted."
            )
        name = str(table.name)
        if table.args.get("db") or table.args.get("catalog"):
            raise QueryRefusedError(
                f"Statement refused: qualified name '{table.sql(dialect='duckdb')}' is not allowed\n"
                "Use the bare table or view name."
            )
        lowered = name.lower()
        if lowered in ctes:
            continue
        if "/" in name or "." in name or ":" in name or "\\" in name:
            raise QueryRefusedError(
                f"Statement refused: '{name}' looks like a file or URL, which cannot be read\n"
                "Read from the tables and views you were granted."
            )
        if lowered.startswith("__") or not may_query(lowered):
            raise NotGrantedError(
                f"Statement refused: no grant on '{name}'\n"
                "Ask an administrator for a grant ('trailhouse grant USER --tables ... --accounts ...')."
            )
        relations.add(lowered)
    return CheckedStatement(tree.sql(dialect="duckdb"), tuple(sorted(relations)), tuple(sorted(functions)))
