"""The lake: a set of Delta tables under one root. The only module that imports `deltalake`.

Layout under the root (a folder or s3://bucket/prefix):

    cloudtrail/            events, partitioned by event_date
    cloudtrail_insights/   Insights events, partitioned by event_date
    cloudtrail_digests/    one row per digest file
    ledger/                one row per source object seen
    quarantine/            records and objects that could not be read
    _audit/                the access audit log (JSON lines, see auth/)

Every append carries commit metadata (`trailhouse`: the source objects it contains), so the
ledger can always be rebuilt from the tables' own commit history.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

# delta-rs allocates with its own jemalloc, which keeps freed pages for ten seconds by default: a
# long ingest (a commit every few seconds) held ~20 MiB more. Read when deltalake loads; the
# environment still wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from trailhouse.errors import ConcurrentChangeError, LakeNotFoundError
from trailhouse.lake_files import WrittenFile, delete_files, now_millis, table_uri
from trailhouse.query import derived

COMMIT_KEY = "trailhouse"
_WRITER = WriterProperties(compression="ZSTD", compression_level=3)


def is_remote(root: str) -> bool:
    return "://" in root and not root.startswith("file://")


def storage_options(root: str) -> dict[str, str]:
    """Options for delta-rs from the standard AWS environment (endpoint, region, credentials)."""
    if not is_remote(root):
        return {}
    options: dict[str, str] = {}
    for env, key in (
        ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
        ("AWS_REGION", "AWS_REGION"),
        ("AWS_DEFAULT_REGION", "AWS_REGION"),
    ):
        if os.environ.get(env) and key not in options:
            options[key] = os.environ[env]
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    # Several writers on one S3 table: S3's conditional PUT (If-None-Match) makes each commit
    # atomic without a lock table (delta-rs' "etag" conditional put; AWS S3 supports it).
    options.setdefault("conditional_put", "etag")
    return options


_TAG_LOOK_BACK = 20  # commits searched for our own, when others write at the same time
_COMMIT_ATTEMPTS = 8


def _properties(metadata: Mapping[str, Any] | None, tag: str) -> CommitProperties:
    body = {**(metadata or {}), "commit": tag}
    return CommitProperties(custom_metadata={COMMIT_KEY: json.dumps(body, separators=(",", ":"))})


class Lake:
    """The Delta tables under one root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        text = str(root)
        self.root = text.rstrip("/") if is_remote(text) else str(Path(text).resolve())
        self.options = storage_options(self.root)

    def uri(self, table: str) -> str:
        return table_uri(self.root, table)

    def _open(self, table: str, version: int | None = None) -> DeltaTable | None:
        try:
            return DeltaTable(self.uri(table), version=version, storage_options=self.options or None)
        except TableNotFoundError:
            return None

    def exists(self, table: str) -> bool:
        return self._open(table) is not None

    def require(self, table: str = "cloudtrail") -> None:
        """Raise a helpful error when the lake has no such table."""
        if not self.exists(table):
            raise LakeNotFoundError(
                f"No Delta table at '{self.uri(table)}' (no _delta_log folder)\n"
                f"Run 'trailhouse ingest ./logs --lake {self.root}' to create one, or pass --lake."
            )

    def version(self, table: str) -> int | None:
        dt = self._open(table)
        return None if dt is None else dt.version()

    def dataset(self, table: str) -> ds.Dataset | None:
        """A pyarrow dataset of the table's current files (prunes by partition and statistics)."""
        dt = self._open(table)
        return None if dt is None else dt.to_pyarrow_dataset()

    def files(self, table: str) -> list[str] | None:
        """Absolute URIs of the table's current Parquet files (None: no such table)."""
        dt = self._open(table)
        return None if dt is None else list(dt.file_uris())

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        filter: ds.Expression | None = None,
    ) -> pa.Table | None:
        dataset = self.dataset(table)
        if dataset is None:
            return None
        return dataset.to_table(columns=list(columns) if columns else None, filter=filter)

    def append(
        self,
        table: str,
        data: pa.Table,
        *,
        partition_by: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """Append rows in one commit carrying `metadata`; returns the new table version."""
        tag = uuid.uuid4().hex
        properties = _properties(metadata, tag)
        write_deltalake(
            self.uri(table),
            data,
            mode="append",
            partition_by=list(partition_by) if partition_by else None,
            storage_options=self.options or None,
            commit_properties=properties,
            writer_properties=_WRITER,
        )
        return self._version_of(table, tag)

    def commit_files(
        self,
        table: str,
        files: Sequence[WrittenFile],
        schema: pa.Schema,
        *,
        partition: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """Add streamed files (see lake_files) to `table` in one commit carrying `metadata`."""
        partition_by = [partition] if partition else None
        dt = self._open(table)
        if dt is None:
            dt = DeltaTable.create(
                self.uri(table),
                schema,
                mode="ignore",  # a concurrent writer may create it first
                partition_by=partition_by,
                storage_options=self.options or None,
            )
        actions: list[AddAction | RemoveAction] = [
            AddAction(f.path, f.size, f.partition, now_millis(), True, f.stats_json()) for f in files
        ]
        tag = uuid.uuid4().hex
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                dt.create_write_transaction(
                    actions,
                    mode="append",
                    schema=schema,
                    partition_by=partition_by,
                    commit_properties=_properties(metadata, tag),
                )
                break
            except CommitFailedError:
                # Many writers on one S3 table: delta-rs gave up its own retries. The files are
                # written and nothing was committed, so appending them again is safe.
                if attempt + 1 == _COMMIT_ATTEMPTS:
                    raise
                time.sleep(min(2.0, 0.1 * 2**attempt))
                dt.update_incremental()
        dt.update_incremental()  # the new commits only, not the whole log again
        return self._version_of(table, tag, dt)

    def _version_of(self, table: str, tag: str, dt: DeltaTable | None = None) -> int:
        """The version of the commit carrying `tag`: exact even when other writers commit too.

        Ours is the newest commit unless another writer followed: one commit is read first (each
        commit's metadata lists its objects, so twenty of them cost megabytes).
        """
        dt = dt or self._open(table)
        assert dt is not None
        for look_back in (1, _TAG_LOOK_BACK):
            for entry in dt.history(limit=look_back):
                if json.loads(entry.get(COMMIT_KEY) or "{}").get("commit") == tag:
                    return int(entry["version"])
        return dt.version()

    def commits(self, table: str, *, after_version: int = -1) -> list[tuple[int, dict[str, Any]]]:
        """(version, trailhouse metadata) of each commit after `after_version`, oldest first."""
        dt = self._open(table)
        if dt is None:
            return []
        wanted = dt.version() - after_version
        if wanted <= 0:
            return []
        found = []
        for entry in dt.history(limit=wanted):
            raw = entry.get(COMMIT_KEY)
            if raw is not None and entry["version"] > after_version:
                found.append((int(entry["version"]), json.loads(raw)))
        return sorted(found, key=lambda item: item[0])

    def column_max(self, table: str, column: str) -> Any:
        """The largest value of a column, from the Delta log's file statistics (no data read)."""
        dt = self._open(table)
        if dt is None:
            return None
        actions = pa.table(dt.get_add_actions(flatten=True))
        name = f"max.{column}"
        if name not in actions.column_names or actions.num_rows == 0:
            return None
        return pc.max(actions.column(name)).as_py()

    def size_bytes(self, table: str) -> tuple[int, int]:
        """(files, bytes) of the table's current version."""
        dt = self._open(table)
        if dt is None:
            return (0, 0)
        actions = dt.get_add_actions(flatten=True)
        sizes = pa.table(actions).column("size_bytes").to_pylist()
        return (len(sizes), sum(sizes))

    # Lifecycle (used by trailhouse.lifecycle): compaction, retention, vacuum, checkpoints.

    def partition_files(self, table: str, column: str = "event_date") -> list[tuple[str, int, int, int, int]]:
        """(partition value, files, bytes, rows, files without the current derived columns) of each
        partition of the current version (the last is 0 for a table without derived columns)."""
        dt = self._open(table)
        if dt is None:
            return []
        actions = pa.table(dt.get_add_actions(flatten=True))
        if actions.num_rows == 0:
            return []
        by_value: dict[str, list[int]] = {}
        values = actions.column(f"partition.{column}").to_pylist()
        sizes = actions.column("size_bytes").to_pylist()
        rows = actions.column("num_records").to_pylist()
        paths = actions.column("path").to_pylist()
        has_derived = bool(derived.names(table))
        for value, size, count, path in zip(values, sizes, rows, paths, strict=True):
            entry = by_value.setdefault(str(value), [0, 0, 0, 0])
            entry[0] += 1
            entry[1] += int(size)
            entry[2] += int(count or 0)
            entry[3] += int(has_derived and not derived.holds_current(path))
        return sorted((value, *entry) for value, entry in by_value.items())  # type: ignore[misc]

    def rewrite_sorted(
        self,
        table: str,
        *,
        partition: str,
        sort_by: Sequence[str],
        rows_per_file: int,
        row_group_rows: int = 16_384,
        column: str = "event_date",
        version: int | None = None,
    ) -> int:
        """Rewrite one partition into files of `rows_per_file` rows whose rows are ordered by
        `sort_by` (lexicographically: delta-rs' Z-order interleaves the columns' bits, which
        scatters the rows of one service). DuckDB sorts (query.engine.sorted_batches), spilling to
        disk beyond its memory limit.
        One commit removes exactly the files read from the snapshot `version` (default: the latest)
        and adds the new ones; returns the number of files written. A file appended meanwhile
        stays. If another writer removed files it read (a concurrent compaction or retain), nothing
        is committed, the new files are deleted and ConcurrentChangeError says so."""
        from trailhouse.lake_files import TableStream
        from trailhouse.query.engine import sorted_batches  # here: engine imports this module

        dt = self._open(table, version)
        if dt is None:
            return 0
        dataset = dt.to_pyarrow_dataset()
        wanted = ds.field(column) == pa.scalar(partition).cast(dataset.schema.field(column).type)
        source = dataset.scanner(filter=wanted, batch_size=row_group_rows).to_reader()
        schema = dataset.schema
        extra = derived.stored_names(table)
        written: list[WrittenFile] = []
        stream: TableStream | None = None
        for batch in sorted_batches(source, sort_by, row_group_rows, table=table):
            if stream is None:
                # the table's columns as its schema types them, then the derived ones as computed
                file_schema = pa.schema([*schema, *(batch.schema.field(name) for name in extra)])
                stream = TableStream(self.uri(table), file_schema, column, tag=derived.file_tag(table))
            stream.write(pa.Table.from_batches([batch]).cast(file_schema))
            if stream.rows >= rows_per_file:
                written += stream.close()
                stream = None
        if stream is not None:
            written += stream.close()
        if not written:
            return 0
        for file in written:  # Delta statistics cover the table's own columns only
            for name in extra:
                file.stats.pop(name, None)
        actions: list[AddAction | RemoveAction] = [
            AddAction(f.path, f.size, f.partition, now_millis(), False, f.stats_json()) for f in written
        ]
        try:
            dt.create_write_transaction(
                actions,
                mode="overwrite",
                schema=schema,
                partition_by=[column],
                partition_filters=[(column, "=", partition)],
            )
        except CommitFailedError as error:
            delete_files(self.uri(table), written)
            raise ConcurrentChangeError(
                f"{table} {column}={partition} was changed by another writer while it was rewritten "
                f"({error}); nothing was committed: run the compaction again"
            ) from None
        return len(written)

    def delete_partitions(self, table: str, *, before: str, column: str = "event_date") -> dict[str, Any]:
        """Delete every row whose partition `column` is before `before` (whole files; no rewrite)."""
        dt = self._open(table)
        if dt is None:
            return {}
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", before):
            raise ValueError(f"not a date: {before!r}")
        return dict(dt.delete(f"{column} < '{before}'"))

    def vacuum(self, table: str, *, retention_hours: int = 168, dry_run: bool = True) -> list[str]:
        """Files no longer referenced and older than the retention; deleted only when not `dry_run`."""
        dt = self._open(table)
        if dt is None:
            return []
        return list(
            dt.vacuum(retention_hours=retention_hours, dry_run=dry_run, enforce_retention_duration=False)
        )

    def checkpoint(self, table: str) -> int | None:
        """Write a Delta checkpoint of the current version (readers then skip replaying the log)."""
        dt = self._open(table)
        if dt is None:
            return None
        dt.create_checkpoint()
        return dt.version()
