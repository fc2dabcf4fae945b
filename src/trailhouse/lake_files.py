"""Parquet files streamed into a Delta table's folder, to be committed in one transaction.

Rows are written as they arrive (one open file per partition), so a commit of any size needs no
more memory than a row group; `Lake.commit_files` then adds the files in one Delta commit. Files
of a process that dies before the commit are never referenced: `trailhouse maintain vacuum`
removes them.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from trailhouse.errors import ConcurrentChangeError

_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_STATS_TYPES = (pa.types.is_string, pa.types.is_timestamp, pa.types.is_boolean, pa.types.is_date)


def table_uri(lake_root: str, table: str) -> str:
    return f"{lake_root}/{table}"


def filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path of `root` in it (local folder or s3://), from the AWS env."""
    if "://" not in root or root.startswith("file://"):
        return pafs.LocalFileSystem(), root.removeprefix("file://")
    parsed = urlparse(root)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {}
    if endpoint:
        endpoint_url = urlparse(endpoint)
        options["endpoint_override"] = endpoint_url.netloc
        options["scheme"] = endpoint_url.scheme or "https"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    return pafs.S3FileSystem(**options), f"{parsed.netloc}{parsed.path}"


@dataclass(frozen=True)
class Encoding:
    """How a stream encodes its Parquet files (columns named at the top level).

    The default is for files that stay: compaction's. Ingest writes files that compaction
    rewrites, for speed: zstd level 1 (no larger than level 3 on CloudTrail rows), no dictionary
    where values are mostly distinct (the writer fills a dictionary page, then gives up on it), no
    statistics where no filter uses them (JSON text). On the ingest bench's rows that takes a
    fifth off the writer's CPU time (0.81x, medians of 5). Compressing only the columns of long or
    distinct values (`compressed_only`) leaves the rest, dictionary-encoded or mostly null, plain:
    each compressed column chunk costs a fresh zstd context. That takes ~2% off parsing and
    writing together, and 5-20% off reports over files not yet compacted, for files ~4% larger.
    """

    zstd_level: int = 3
    no_dictionary: frozenset[str] = frozenset()
    no_statistics: frozenset[str] = frozenset()
    compressed_only: frozenset[str] | None = None  # None: every column

    def writer_options(self, schema: pa.Schema) -> dict[str, Any]:
        def leaves(skip: frozenset[str]) -> list[str] | bool:
            return [path for f in schema if f.name not in skip for path in _leaf_paths(f)] if skip else True

        compression: str | dict[str, str] = "zstd"
        level: int | dict[str, int] = self.zstd_level
        if self.compressed_only is not None:
            chosen = self.compressed_only
            compression = {p: "zstd" if f.name in chosen else "none" for f in schema for p in _leaf_paths(f)}
            level = {path: self.zstd_level for path, codec in compression.items() if codec == "zstd"}
        return {
            "compression": compression,
            "compression_level": level,
            "use_dictionary": leaves(self.no_dictionary),
            "write_statistics": leaves(self.no_statistics),
        }


def _leaf_paths(column: pa.Field, prefix: str = "") -> Iterator[str]:
    """A column's Parquet leaf paths, as the writer's per-column options name them."""
    path = f"{prefix}{column.name}"
    if pa.types.is_struct(column.type):
        for child in column.type:
            yield from _leaf_paths(child, f"{path}.")
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        yield from _leaf_paths(column.type.value_field.with_name("element"), f"{path}.list.")
    else:
        yield path


@dataclass
class _ColumnStats:
    low: Any = None
    high: Any = None
    nulls: int = 0


@dataclass
class WrittenFile:
    """One Parquet file of a pending commit: where, how big, its partition and statistics."""

    path: str  # relative to the table root
    partition: dict[str, str | None]
    rows: int = 0
    size: int = 0
    stats: dict[str, _ColumnStats] = field(default_factory=dict)

    def observe(self, table: pa.Table, skip: frozenset[str] = frozenset()) -> None:
        self.rows += table.num_rows
        for name in table.column_names:
            column = table.column(name)
            if name in skip or not any(check(column.type) for check in _STATS_TYPES):
                continue
            seen = self.stats.setdefault(name, _ColumnStats())
            seen.nulls += column.null_count
            if column.null_count == len(column):
                continue
            extremes = pc.min_max(column)
            low, high = extremes["min"].as_py(), extremes["max"].as_py()
            seen.low = low if seen.low is None else min(seen.low, low)
            seen.high = high if seen.high is None else max(seen.high, high)

    def stats_json(self) -> str:
        """Delta's per-file statistics: numRecords, minValues, maxValues, nullCount."""
        low: dict[str, Any] = {}
        high: dict[str, Any] = {}
        for name, seen in self.stats.items():
            if seen.low is not None:
                low[name] = _stat_value(seen.low, round_up=False)
                high[name] = _stat_value(seen.high, round_up=True)
        nulls = {name: seen.nulls for name, seen in self.stats.items()}
        return json.dumps({"numRecords": self.rows, "minValues": low, "maxValues": high, "nullCount": nulls})


def _stat_value(value: Any, *, round_up: bool) -> Any:
    if isinstance(value, datetime):
        # millisecond precision, rounded outwards so the range always covers the data
        millis = value.replace(microsecond=value.microsecond // 1000 * 1000)
        if round_up and millis != value:
            millis += timedelta(milliseconds=1)
        return millis.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


class TableStream:
    """Rows of one table streamed into new Parquet files, one per partition value."""

    def __init__(
        self,
        table_root: str,
        schema: pa.Schema,
        partition_by: str | None,
        *,
        tag: str | None = None,
        encoding: Encoding = Encoding(),
    ) -> None:
        self.fs, self.root = filesystem(table_root)
        self.suffix = f".{tag}.zstd.parquet" if tag else ".zstd.parquet"  # tag: see query.derived
        self.schema = schema
        self.partition_by = partition_by
        self.file_schema = schema.remove(schema.get_field_index(partition_by)) if partition_by else schema
        self.encoding = encoding
        self._writer_options = encoding.writer_options(self.file_schema)
        self._writers: dict[str | None, tuple[pq.ParquetWriter, WrittenFile]] = {}

    def write(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        if self.partition_by is None:
            self._write_part(None, rows)
            return
        keys = rows.column(self.partition_by)
        values = pc.unique(keys).to_pylist()
        if len(values) == 1:  # the usual case (a file holds one day): no copy
            self._write_part(values[0], rows.drop_columns([self.partition_by]))
            return
        for value in values:
            where = pc.is_null(keys) if value is None else pc.equal(keys, pa.scalar(value, keys.type))
            part = rows.filter(where).drop_columns([self.partition_by])
            self._write_part(value, part)

    def _write_part(self, value: Any, rows: pa.Table) -> None:
        text = None if value is None else _stat_value(value, round_up=False)
        if text not in self._writers:
            folder = (
                f"{self.partition_by}={text if text is not None else _DEFAULT_PARTITION}/"
                if self.partition_by
                else ""
            )
            relative = f"{folder}part-{uuid.uuid4()}{self.suffix}"
            self.fs.create_dir(f"{self.root}/{folder}".rstrip("/"), recursive=True)
            writer = pq.ParquetWriter(
                f"{self.root}/{relative}", self.file_schema, filesystem=self.fs, **self._writer_options
            )
            partition = {self.partition_by: text} if self.partition_by else {}
            self._writers[text] = (writer, WrittenFile(relative, partition))
        writer, written = self._writers[text]
        rows = rows.cast(self.file_schema) if rows.schema != self.file_schema else rows
        writer.write_table(rows)
        written.observe(rows, self.encoding.no_statistics)

    def close(self) -> list[WrittenFile]:
        """Finish every file; returns them for the commit."""
        files = []
        for writer, written in self._writers.values():
            writer.close()
            info = self.fs.get_file_info(f"{self.root}/{written.path}")
            if info.type != pafs.FileType.File:  # else delta-rs fails on its size with a riddle
                raise ConcurrentChangeError(
                    f"The file '{written.path}' written for this commit is gone from '{self.root}': "
                    "was the lake moved or deleted during the run? Nothing was committed; run it again."
                )
            written.size = info.size
            files.append(written)
        self._writers.clear()
        return files

    @property
    def rows(self) -> int:
        return sum(written.rows for _, written in self._writers.values())


def delete_files(table_root: str, files: list[WrittenFile]) -> None:
    """Remove written files that no commit will reference."""
    fs, root = filesystem(table_root)
    for written in files:
        fs.delete_file(f"{root}/{written.path}")


def now_millis() -> int:
    return int(time.time() * 1000)
