"""The query engine: DuckDB over the lake's Delta tables. The only module that imports `duckdb`.

Each table is registered as a pyarrow dataset of its current Delta version (partition and
min/max-statistics pruning happen in the scan), then the views of `query/views/` are created.
An `Engine` may be restricted to some tables and AWS accounts (grants); the raw datasets are
then hidden behind filtered views of the same names.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

from trailhouse.errors import QueryError
from trailhouse.lake import Lake

TABLES = ("cloudtrail", "cloudtrail_insights", "cloudtrail_digests", "ledger", "quarantine")
# Tables whose rows belong to one AWS account, and the column that says which.
ACCOUNT_COLUMN = {
    "cloudtrail": "recipientAccountId",
    "cloudtrail_insights": "recipientAccountId",
}


@dataclass(frozen=True)
class Scope:
    """What a query may see: all tables and accounts (None), or only the listed ones."""

    tables: frozenset[str] | None = None
    accounts: frozenset[str] | None = None


def view_definitions() -> list[tuple[str, str]]:
    """(name, SELECT) of every view in query/views/*.sql, in file-name order."""
    folder = resources.files("trailhouse.query") / "views"
    if not folder.is_dir():
        return []
    views = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            views.append((entry.name.removesuffix(".sql"), entry.read_text()))
    return views


class Engine:
    """An in-process DuckDB connection over one lake."""

    def __init__(self, lake: Lake, scope: Scope | None = None) -> None:
        self.lake = lake
        self.scope = scope or Scope()
        self.connection = duckdb.connect(config={"threads": 2})
        self._lock = threading.Lock()
        self.tables = self._register_tables()
        self._create_views()

    def _register_tables(self) -> list[str]:
        present = []
        for table in TABLES:
            dataset = self.lake.dataset(table)
            if dataset is None:
                continue
            if self.scope.tables is not None and table not in self.scope.tables:
                continue
            raw = f"__raw_{table}"
            self.connection.register(raw, dataset)
            self.connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {raw}{self._filter(table)}")
            present.append(table)
        return present

    def _filter(self, table: str) -> str:
        accounts = self.scope.accounts
        if accounts is None:
            return ""
        column = ACCOUNT_COLUMN.get(table)
        if column is None:
            return ""
        listed = ", ".join("'" + a.replace("'", "''") + "'" for a in sorted(accounts))
        return f" WHERE {column} IN ({listed or 'NULL'})"

    def _create_views(self) -> None:
        for name, select in view_definitions():
            try:
                self.connection.execute(f"CREATE VIEW {name} AS {select}")
            except duckdb.CatalogException:
                continue  # a view over a table this lake (or this scope) does not have

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run SQL and return the result as an Arrow table."""
        with self._lock:
            try:
                return self.connection.execute(sql, params).fetch_arrow_table()
            except duckdb.Error as error:
                raise QueryError(_describe(error, sql)) from None

    def close(self) -> None:
        self.connection.close()


def _describe(error: Exception, sql: str) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f'Query failed: {first}\nCheck the SQL; `trailhouse query "SHOW TABLES"` lists what exists.'
