"""Ingest: sources -> classify -> parse (worker processes) -> deduplicate -> commit with the ledger.

Exactly once: an object is done when the commit holding its rows (and naming it in its metadata)
lands; the ledger follows, and is repaired from the commit history after a crash. Nothing is
acknowledged to a source before that.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import pyarrow.dataset as ds

from trailhouse.errors import ObjectReadError
from trailhouse.ingest.batch import Batch, QuarantineRow, quarantine_table
from trailhouse.ingest.dedup import DedupIndex
from trailhouse.ingest.ledger import Ledger, LedgerRow, rows_metadata
from trailhouse.ingest.memory import give_back, release_memory_eagerly
from trailhouse.ingest.parsers import Files, Masks, Parser, first_ready, start_parsers
from trailhouse.ingest.reader import BIG_OBJECT_BYTES, ParsedGroup, ParsedObject
from trailhouse.ingest.worker import LocalFile
from trailhouse.lake import Lake
from trailhouse.model.keys import KeyInfo, classify_key
from trailhouse.model.schema import EVENTS, INSIGHTS
from trailhouse.sources.base import OBJECT_GONE, ObjectRef, Source
from trailhouse.sources.local import read_file

_MIB = 1024 * 1024
_Item = tuple[ObjectRef, KeyInfo, bytes | LocalFile]
_GROUP_BYTES = BIG_OBJECT_BYTES  # stored (gzip) bytes parsed together
_GROUP_OBJECTS = 400


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


_COUNTED = (
    "objects_seen",
    "already_done",
    "ingested",
    "skipped",
    "quarantined",
    "records",
    "rows_written",
    "duplicates",
    "records_quarantined",
)


class Progress(Protocol):
    def advance(self, objects: int, nbytes: int) -> None: ...


class NullProgress:
    """Silent by default; the CLI supplies a bar on a terminal."""

    def advance(self, objects: int, nbytes: int) -> None:
        return None


class _Run:
    """State of one ingest run."""

    def __init__(self, lake: Lake, options: IngestOptions, progress: Progress, parsers: list[Parser]) -> None:
        self.lake = lake
        self.parsers = parsers
        self.options = options
        self.progress = progress
        self.ledger = Ledger(lake)
        self.ledger.repair()
        self.done = self.ledger.done()
        self.dedup = {t: DedupIndex(lake, t) for t in (EVENTS.table, INSIGHTS.table)}
        self.batch = Batch()
        self.counts = dict.fromkeys(_COUNTED, 0)  # IngestResult's count fields, by name
        self.bytes = 0
        self.commits = 0
        self.closing = False  # "close" sent to the parsers for the coming commit

    # -- classification -------------------------------------------------------------------
    def admit(self, ref: ObjectRef, source: Source) -> KeyInfo | None:
        """The object's key info if it must be read; else it is accounted for here."""
        self.counts["objects_seen"] += 1
        info = classify_key(ref.key, ref.size)
        if info.source_object in self.done or info.source_object in self.batch.pending_objects:
            self.counts["already_done"] += 1
            source.committed([ref])
            return None
        reason = info.reason or self._excluded(info)
        if reason:
            self.skip(ref, info, reason)
            return None
        return info

    def _excluded(self, info: KeyInfo) -> str:
        if self.options.accounts and info.account and info.account not in self.options.accounts:
            return f"account {info.account} is not in the accounts allow-list"
        if self.options.regions and info.region and info.region not in self.options.regions:
            return f"region {info.region} is not in the regions allow-list"
        return ""

    def skip(self, ref: ObjectRef, info: KeyInfo, reason: str, nbytes: int = 0) -> None:
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
    def accept(self, group: list[_Item], parsed: ParsedGroup, parser: Parser, group_id: int) -> None:
        """Account for a parsed group (its tables hold key columns only): dedup once, tell the
        parser which rows to write, then one ledger row per object."""
        masks: Masks = {}
        for table, keys in parsed.tables.items():
            masks[table] = self.dedup[table].new_mask(keys) if table in self.dedup else None
        parser.send(("write", group_id, masks))
        for index, (ref, info, raw) in enumerate(group):
            result = parsed.results[index]
            table, start, count = parsed.ranges[index]
            mask = masks.get(table)
            written = count if mask is None else sum(mask[start : start + count])
            self._account(ref, info, result, raw, table, written, count - written)

    def _account(
        self,
        ref: ObjectRef,
        info: KeyInfo,
        result: ParsedObject | str,
        raw: bytes | LocalFile,
        table: str,
        written: int,
        dups: int,
    ) -> None:
        if isinstance(result, str):
            if result == OBJECT_GONE:
                self.skip(ref, info, result)
            else:
                self.quarantine_object(ref, info, result, _stored_bytes(raw))
            return
        if result.skip_reason:
            self.skip(ref, info, result.skip_reason, result.uncompressed_bytes)
            return
        for bad in result.bad_records:
            self.batch.quarantine.append(
                QuarantineRow(info.source_object, ref.uri, bad.index, bad.reason, bad.raw)
            )
        row = LedgerRow(
            info.source_object,
            ref.uri,
            info.kind,
            "ingested",
            bytes=result.uncompressed_bytes,
            records=result.records,
            rows_written=written,
            duplicates=dups,
            records_quarantined=len(result.bad_records),
        )
        self.batch.add(ref, row, table if written else "")
        c = self.counts
        c["ingested"] += 1
        c["records"] += result.records
        c["rows_written"] += written
        c["duplicates"] += dups
        c["records_quarantined"] += len(result.bad_records)
        self.bytes += result.uncompressed_bytes
        self.progress.advance(1, result.uncompressed_bytes)

    # -- commits ---------------------------------------------------------------------------
    def commit(self, sources: Sequence[Source]) -> None:
        batch, self.batch = self.batch, Batch()
        if not len(batch):
            return
        recorded: list[LedgerRow] = list(batch.ledger.get("", []))
        fresh = self._not_yet_quarantined(batch.quarantine)
        if fresh or batch.ledger.get("quarantine"):
            rows = batch.ledger.get("quarantine", [])
            version = self.lake.append("quarantine", quarantine_table(fresh), metadata=rows_metadata(rows))
            recorded += [_versioned(r, "quarantine", version) for r in rows]
            self.commits += 1
        files = self._close_files()
        missing = set(batch.ledger) - {"", "quarantine"} - set(files)
        if missing:
            raise RuntimeError(f"internal error: rows of {sorted(missing)} were counted but not written")
        for table, (schema, partition, written) in files.items():
            rows = batch.ledger.get(table, [])
            version = self.lake.commit_files(
                table, written, schema, partition=partition, metadata=rows_metadata(rows)
            )
            recorded += [_versioned(r, table, version) for r in rows]
            self.commits += 1
        self.ledger.record(recorded)
        for index in self.dedup.values():
            index.committed()
        self.done.update(batch.pending_objects)
        for source in sources:
            source.committed(batch.refs)
        give_back()

    def request_close(self) -> None:
        """Ask every parser to finish its files for the coming commit (answers are read there)."""
        if not self.closing:
            for parser in self.parsers:
                parser.send(("close",))
            self.closing = True

    def _close_files(self) -> Files:
        """Every parser's finished files, merged per table."""
        self.request_close()
        self.closing = False
        merged: Files = {}
        for parser in self.parsers:
            for table, (schema, partition, written) in parser.closed().items():
                if written:
                    merged.setdefault(table, (schema, partition, []))[2].extend(written)
        return merged

    def _not_yet_quarantined(self, rows: list[QuarantineRow]) -> list[QuarantineRow]:
        """Rows a crashed run did not already write (it quarantines before the data commit)."""
        if not rows:
            return rows
        objects = sorted({r.source_object for r in rows})
        stored = self.lake.read(
            "quarantine",
            columns=["source_object", "record_index"],
            filter=ds.field("source_object").isin(objects),
        )
        if stored is None or stored.num_rows == 0:
            return rows
        done = set(zip(stored.column(0).to_pylist(), stored.column(1).to_pylist(), strict=True))
        return [r for r in rows if (r.source_object, r.record_index) not in done]

    def result(self, seconds: float) -> IngestResult:
        return IngestResult(**self.counts, bytes=self.bytes, commits=self.commits, seconds=seconds)


def _versioned(row: LedgerRow, table: str, version: int) -> LedgerRow:
    return replace(row, table_name=table, commit_version=version)


def _worker_count(requested: int) -> int:
    """0 means one parser per core: the main process only reads, deduplicates and commits."""
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
    release_memory_eagerly()
    group_bytes = _group_bytes(options.batch_mb)
    parsers = start_parsers(_worker_count(options.workers), lake.root, big_object_bytes=group_bytes)
    try:
        run = _Run(lake, options, progress or NullProgress(), parsers)
        for source in sources:
            _drain(source, run, sources)
        run.commit(sources)
    finally:
        for parser in parsers:
            parser.stop()
    return run.result(time.monotonic() - started)


# One group per parser at a time: its verdict comes back before the parser starts another, so a
# parser holds one group's rows, not two (30-35 MiB less per run on the bench, at the same speed:
# parsers read their own files, and the main process answers a group's keys in milliseconds).
_IN_FLIGHT_PER_PARSER = 1


def _drain(source: Source, run: _Run, sources: Sequence[Source]) -> None:
    """Read, parse (in groups, each to the least busy parser) and account for one source's
    objects, committing when a batch is full.

    Answers are taken as they come, not in the order asked: a parser busy with a big object does
    not hold up the other (dedup is exact in any order; only which copy of a duplicate is kept
    may differ, and copies are the same event). Before a commit, once the parsers were asked to
    close their files, they are given the next groups to parse while this process commits.
    """
    in_flight: dict[int, deque[tuple[list[_Item], int]]] = {id(p): deque() for p in run.parsers}
    ids = itertools.count()
    objects = _readable(source, run)
    group_bytes = _group_bytes(run.options.batch_mb)
    exhausted = False

    def next_group() -> list[_Item]:
        """Objects read up to a group's size; fewer when the source ends or wants a flush."""
        nonlocal exhausted
        group: list[_Item] = []
        size = 0
        for item in objects:
            if item is not None:
                group.append(item)
                ref, _, content = item
                size += len(content) if isinstance(content, bytes) else ref.size or 0
            if _wants_flush(source) or size >= group_bytes or len(group) >= _GROUP_OBJECTS:
                return group
        exhausted = True
        return group

    def has_room() -> bool:
        return any(len(queue) < _IN_FLIGHT_PER_PARSER for queue in in_flight.values())

    def send(group: list[_Item]) -> None:
        parser = min(run.parsers, key=lambda p: len(in_flight[id(p)]))
        group_id = next(ids)
        parser.send(("parse", group_id, [(info.kind, info.source_object, raw) for _, info, raw in group]))
        in_flight[id(parser)].append((group, group_id))

    def finish_one() -> None:
        parser = first_ready([p for p in run.parsers if in_flight[id(p)]])
        items, group_id = in_flight[id(parser)].popleft()
        run.accept(items, parser.parsed(), parser, group_id)
        if run.batch.bytes >= run.options.batch_mb * _MIB or _wants_flush(source):
            run.request_close()
            while has_room() and not exhausted and not _wants_flush(source):
                if group := next_group():  # parsed while this process commits
                    send(group)
            run.commit(sources)

    def submit(group: list[_Item]) -> None:
        if group:
            while not has_room():
                finish_one()
            send(group)

    while not exhausted:
        submit(next_group())
        if _wants_flush(source):  # a queue gone quiet or messages ageing: commit what is held now
            while any(in_flight.values()):
                finish_one()
            run.commit(sources)
    while any(in_flight.values()):
        finish_one()
    run.commit(sources)


def _group_bytes(batch_mb: int) -> int:
    """Stored bytes parsed together: 1.5 MiB, less for a small batch (the low-memory setting), as a
    group's text and rows (~10x and ~15x its stored size) are most of what a parser holds. An
    object of a group's size or more is streamed and its rows wait on disk (see parsers.py), so
    no single object costs more than a group."""
    return max(256 * 1024, min(_GROUP_BYTES, batch_mb * _MIB // 64))


def _readable(source: Source, run: _Run) -> Iterator[_Item | None]:
    """Objects to parse; None after an object accounted for without reading (a chance to flush).
    A local folder's files are read by the parsers (a pipe would copy every byte twice)."""
    local = bool(getattr(source, "local_files", False))
    for ref in source.objects():
        info = run.admit(ref, source)
        if info is None:
            yield None
            continue
        if local:
            yield ref, info, LocalFile(ref.uri)
            continue
        try:
            raw = source.read(ref)
        except ObjectReadError as error:
            if str(error) == OBJECT_GONE:
                run.skip(ref, info, OBJECT_GONE)
            else:
                run.quarantine_object(ref, info, str(error), b"")
            yield None
            continue
        yield ref, info, raw


def _stored_bytes(content: bytes | LocalFile) -> bytes:
    """What the quarantine keeps of an unreadable object: its bytes, if they can still be read."""
    if isinstance(content, bytes):
        return content
    try:
        return read_file(content.path)
    except ObjectReadError:
        return b""


def _wants_flush(source: Source) -> bool:
    wants = getattr(source, "wants_flush", None)
    return bool(wants()) if callable(wants) else False
