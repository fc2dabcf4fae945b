"""Ingest: sources -> classify -> parse (worker processes) -> deduplicate -> commit with the ledger.

Exactly once: an object is done when the commit holding its rows (and naming it in its metadata)
lands; the ledger follows, and is repaired from the commit history after a crash. Nothing is
acknowledged to a source before that.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

import pyarrow as pa

from trailhouse.errors import ObjectReadError
from trailhouse.ingest.batch import Batch, QuarantineRow, quarantine_table
from trailhouse.ingest.dedup import DedupIndex
from trailhouse.ingest.ledger import Ledger, LedgerRow, rows_metadata
from trailhouse.ingest.reader import ParsedObject, decompress, parse_object
from trailhouse.lake import Lake
from trailhouse.model.keys import KeyInfo, classify_key
from trailhouse.model.schema import EVENTS, INSIGHTS
from trailhouse.sources.base import ObjectRef, Source

_TABLE_BY_KIND = {"events": EVENTS.table, "insights": INSIGHTS.table, "digest": "cloudtrail_digests"}
_MIB = 1024 * 1024
_Pending = tuple[ObjectRef, KeyInfo, bytes, "Future[ParsedObject | str] | ParsedObject | str"]


@dataclass(frozen=True)
class IngestOptions:
    workers: int = 0  # parser processes; 0 = one per core, 1 = parse in this process
    batch_mb: int = 256  # uncompressed JSON gathered per commit
    accounts: frozenset[str] = frozenset()  # allow-list; empty = all
    regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IngestResult:
    """Counts of one run; they reconcile (see `reconciles`)."""

    objects_seen: int
    already_done: int
    ingested: int
    skipped: int
    quarantined: int
    records: int
    rows_written: int
    duplicates: int
    records_quarantined: int
    bytes: int
    commits: int
    seconds: float

    def reconciles(self) -> bool:
        objects = self.ingested + self.skipped + self.quarantined + self.already_done
        records = self.rows_written + self.duplicates + self.records_quarantined
        return self.objects_seen == objects and self.records == records

    def summary(self) -> list[str]:
        rate = self.bytes / _MIB / self.seconds if self.seconds else 0.0
        return [
            f"objects seen {self.objects_seen} = ingested {self.ingested} + skipped {self.skipped}"
            f" + quarantined {self.quarantined} + already in the lake {self.already_done}",
            f"records read {self.records} = rows written {self.rows_written}"
            f" + duplicates dropped {self.duplicates} + records quarantined {self.records_quarantined}",
            f"{self.bytes / _MIB:.1f} MiB of JSON in {self.seconds:.1f} s ({rate:.1f} MiB/s), "
            f"{self.commits} commits",
        ]


class Progress(Protocol):
    def advance(self, objects: int, nbytes: int) -> None: ...


class NullProgress:
    """Silent by default; the CLI supplies a bar on a terminal."""

    def advance(self, objects: int, nbytes: int) -> None:
        return None


def parse_kind(kind: str, data: bytes, source_object: str) -> ParsedObject:
    """Parse one object's bytes by kind (runs in a worker process)."""
    if kind == "digest":
        from trailhouse.model.digest import digest_table

        text = decompress(data)
        return ParsedObject(digest_table(text, source_object, None), records=1, uncompressed_bytes=len(text))
    layout = EVENTS if kind == "events" else INSIGHTS
    return parse_object(data, layout, source_object)


def _safe_parse(kind: str, data: bytes, source_object: str) -> ParsedObject | str:
    """A parsed object, or the reason it cannot be read (a bad object never stops the run)."""
    try:
        return parse_kind(kind, data, source_object)
    except ObjectReadError as error:
        return str(error)
    except Exception as error:
        return f"unexpected error while parsing: {type(error).__name__}: {error}"


class _Run:
    """State of one ingest run."""

    def __init__(self, lake: Lake, options: IngestOptions, progress: Progress) -> None:
        self.lake = lake
        self.options = options
        self.progress = progress
        self.ledger = Ledger(lake)
        self.ledger.repair()
        self.done = self.ledger.done()
        self.dedup = {t: DedupIndex(lake, t) for t in (EVENTS.table, INSIGHTS.table)}
        self.batch = Batch()
        self.counts = dict.fromkeys(
            ("seen", "already", "ingested", "skipped", "quarantined", "records", "rows", "dups", "badrec"), 0
        )
        self.bytes = 0
        self.commits = 0

    # -- classification -------------------------------------------------------------------
    def admit(self, ref: ObjectRef, source: Source) -> KeyInfo | None:
        """The object's key info if it must be read; else it is accounted for here."""
        self.counts["seen"] += 1
        info = classify_key(ref.key, ref.size)
        if info.source_object in self.done or info.source_object in self.batch.pending_objects:
            self.counts["already"] += 1
            source.committed([ref])
            return None
        reason = info.reason or self._excluded(info)
        if reason:
            self._skip(ref, info, reason)
            return None
        return info

    def _excluded(self, info: KeyInfo) -> str:
        if self.options.accounts and info.account and info.account not in self.options.accounts:
            return f"account {info.account} is not in the accounts allow-list"
        if self.options.regions and info.region and info.region not in self.options.regions:
            return f"region {info.region} is not in the regions allow-list"
        return ""

    def _skip(self, ref: ObjectRef, info: KeyInfo, reason: str, nbytes: int = 0) -> None:
        kind = info.kind if info.kind != "skip" else "other"
        self.batch.add(ref, LedgerRow(info.source_object, ref.uri, kind, "skipped", reason, bytes=nbytes))
        self.counts["skipped"] += 1
        self.progress.advance(1, nbytes)

    def quarantine_object(self, ref: ObjectRef, info: KeyInfo, reason: str, raw: bytes) -> None:
        row = LedgerRow(info.source_object, ref.uri, info.kind, "quarantined", reason, bytes=len(raw))
        self.batch.quarantine.append(QuarantineRow(info.source_object, ref.uri, -1, reason, raw))
        self.batch.add(ref, row)
        self.counts["quarantined"] += 1
        self.progress.advance(1, 0)

    # -- results ---------------------------------------------------------------------------
    def accept(self, ref: ObjectRef, info: KeyInfo, parsed: ParsedObject | str, raw: bytes) -> None:
        if isinstance(parsed, str):
            self.quarantine_object(ref, info, parsed, raw)
            return
        if parsed.skip_reason:
            self._skip(ref, info, parsed.skip_reason, parsed.uncompressed_bytes)
            return
        table = _TABLE_BY_KIND[info.kind]
        rows, duplicates = parsed.rows, 0
        if rows is not None and table in self.dedup:
            rows, duplicates = self.dedup[table].keep_new(rows)
        for bad in parsed.bad_records:
            self.batch.quarantine.append(
                QuarantineRow(info.source_object, ref.uri, bad.index, bad.reason, bad.raw)
            )
        written = rows.num_rows if rows is not None else 0
        row = LedgerRow(
            info.source_object,
            ref.uri,
            info.kind,
            "ingested",
            bytes=parsed.uncompressed_bytes,
            records=parsed.records,
            rows_written=written,
            duplicates=duplicates,
            records_quarantined=len(parsed.bad_records),
        )
        self.batch.add(ref, row, table, rows)
        self.counts["ingested"] += 1
        self.counts["records"] += parsed.records
        self.counts["rows"] += written
        self.counts["dups"] += duplicates
        self.counts["badrec"] += len(parsed.bad_records)
        self.bytes += parsed.uncompressed_bytes
        self.progress.advance(1, parsed.uncompressed_bytes)

    # -- commits ---------------------------------------------------------------------------
    def commit(self, sources: Sequence[Source]) -> None:
        batch, self.batch = self.batch, Batch()
        if not len(batch):
            return
        recorded: list[LedgerRow] = list(batch.ledger.get("", []))
        if batch.quarantine:
            rows = batch.ledger.get("quarantine", [])
            version = self.lake.append(
                "quarantine", quarantine_table(batch.quarantine), metadata=rows_metadata(rows)
            )
            recorded += [_versioned(r, "quarantine", version) for r in rows]
            self.commits += 1
        for table, parts in batch.rows.items():
            rows = batch.ledger[table]
            data = pa.concat_tables(parts)
            partition = ["event_date"] if table in self.dedup else None
            if partition:
                data = data.sort_by([("recipientAccountId", "ascending"), ("eventTime", "ascending")])
            version = self.lake.append(table, data, partition_by=partition, metadata=rows_metadata(rows))
            recorded += [_versioned(r, table, version) for r in rows]
            self.commits += 1
        self.ledger.record(recorded)
        for index in self.dedup.values():
            index.committed()
        self.done.update(batch.pending_objects)
        for source in sources:
            source.committed(batch.refs)

    def result(self, seconds: float) -> IngestResult:
        c = self.counts
        return IngestResult(
            objects_seen=c["seen"],
            already_done=c["already"],
            ingested=c["ingested"],
            skipped=c["skipped"],
            quarantined=c["quarantined"],
            records=c["records"],
            rows_written=c["rows"],
            duplicates=c["dups"],
            records_quarantined=c["badrec"],
            bytes=self.bytes,
            commits=self.commits,
            seconds=seconds,
        )


def _versioned(row: LedgerRow, table: str, version: int) -> LedgerRow:
    return replace(row, table_name=table, commit_version=version)


def _worker_count(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


def ingest(
    sources: Sequence[Source],
    lake: Lake,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest every object of `sources` into `lake`, exactly once; returns the reconciled counts."""
    options = options or IngestOptions()
    started = time.monotonic()
    run = _Run(lake, options, progress or NullProgress())
    workers = _worker_count(options.workers)
    pool = (
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
    )
    try:
        for source in sources:
            _drain(source, run, pool, workers, sources)
        run.commit(sources)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return run.result(time.monotonic() - started)


def _drain(
    source: Source, run: _Run, pool: ProcessPoolExecutor | None, workers: int, sources: Sequence[Source]
) -> None:
    """Read, parse and gather one source's objects, committing whenever a batch is full."""
    in_flight: deque[tuple[ObjectRef, KeyInfo, bytes, Future[ParsedObject | str] | ParsedObject | str]] = (
        deque()
    )
    limit = run.options.batch_mb * _MIB
    for ref, info, raw in _readable(source, run):
        parsed = (
            pool.submit(_safe_parse, info.kind, raw, info.source_object)
            if pool
            else _safe_parse(info.kind, raw, info.source_object)
        )
        in_flight.append((ref, info, raw, parsed))
        while len(in_flight) > (workers + 1 if pool else 0):
            _finish(in_flight.popleft(), run)
            if run.batch.bytes >= limit or _wants_flush(source):
                run.commit(sources)
    while in_flight:
        _finish(in_flight.popleft(), run)
    run.commit(sources)


def _readable(source: Source, run: _Run) -> Iterator[tuple[ObjectRef, KeyInfo, bytes]]:
    for ref in source.objects():
        info = run.admit(ref, source)
        if info is None:
            continue
        try:
            raw = source.read(ref)
        except ObjectReadError as error:
            if str(error) == "object no longer exists":
                run._skip(ref, info, "object no longer exists")
            else:
                run.quarantine_object(ref, info, str(error), b"")
            continue
        yield ref, info, raw


def _finish(
    item: tuple[ObjectRef, KeyInfo, bytes, Future[ParsedObject | str] | ParsedObject | str], run: _Run
) -> None:
    ref, info, raw, parsed = item
    result = parsed.result() if isinstance(parsed, Future) else parsed
    run.accept(ref, info, result, raw)


def _wants_flush(source: Source) -> bool:
    wants = getattr(source, "wants_flush", None)
    return bool(wants()) if callable(wants) else False
