"""Parser processes: each parses groups of objects and writes its own Parquet files.

The main process only lists and fetches objects, deduplicates and commits; a parser reads the
files of a local folder itself (their bytes never cross a pipe). A parser sends back a group's
results and its event keys (three small columns); its rows stay where they were parsed until the
main process answers with the dedup verdict, then go straight into the parser's open files. At a
commit every parser closes its files and names them; one Delta commit per table adds them all.
No table crosses a process boundary, so both cores parse and write. A group holding a big object
(one group's size: 1.5 MiB stored by default, 512 KiB in the low-memory setting) is streamed, and
its rows wait for the verdict on disk, a unit per file (`spill.py`): they are never all in memory.

Messages, handled in order by each parser: ("parse", id, items) -> ParsedGroup of key columns;
("write", id, masks); ("close",) -> {table: files}. A failure comes back as ("error", text).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing.connection
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyarrow as pa

import trailhouse
from trailhouse.errors import TrailhouseError
from trailhouse.ingest.memory import give_back, reuse_freed_memory
from trailhouse.ingest.reader import BIG_OBJECT_BYTES, ParsedGroup
from trailhouse.ingest.spill import Spill
from trailhouse.ingest.worker import DIGESTS, Item, loaded, parse_group
from trailhouse.lake_files import Encoding, TableStream, WrittenFile, table_uri
from trailhouse.model.schema import (
    DEDUP_COLUMNS,
    DISTINCT_VALUED_COLUMNS,
    JSON_TEXT_COLUMNS,
    LONG_VALUED_COLUMNS,
)

_PARTITIONED = ("cloudtrail", "cloudtrail_insights")  # and compacted: their files are rewritten
_ENCODING = Encoding(  # written for speed: compaction rewrites these files (see lake_files.Encoding)
    zstd_level=1,
    no_dictionary=DISTINCT_VALUED_COLUMNS | JSON_TEXT_COLUMNS,
    no_statistics=JSON_TEXT_COLUMNS,
    compressed_only=DISTINCT_VALUED_COLUMNS | JSON_TEXT_COLUMNS | LONG_VALUED_COLUMNS,
)


Masks = dict[str, list[bool] | None]  # per table: rows kept (None: all)
Files = dict[str, tuple[pa.Schema, str | None, list[WrittenFile]]]  # table: (schema, partition, files)


class ParserDied(TrailhouseError):
    """A parser process ended or failed; nothing of the pending batch was committed."""


@dataclass(frozen=True)
class _Spilled:
    """A group with a big object, awaiting its verdict: its rows on disk, its digests here."""

    spill: Spill
    digests: pa.Table | None


class ParseWriter:
    """A parser's state: parsed groups awaiting their verdict, and one open stream per table."""

    def __init__(self, lake_root: str, big_object_bytes: int = BIG_OBJECT_BYTES) -> None:
        self.lake_root = lake_root
        self.big_object_bytes = big_object_bytes  # stored: such objects are streamed, rows spilled
        self.pending: dict[int, ParsedGroup | _Spilled] = {}
        self.streams: dict[str, TableStream] = {}

    def parse(self, group_id: int, items: Sequence[Item]) -> ParsedGroup:
        """Parse a group and keep its rows; returns its results with only the dedup key columns."""
        group = loaded(items)  # local files are read here, not shipped through the pipe
        if max(len(data) if isinstance(data, bytes) else 0 for _, _, data in group) < self.big_object_bytes:
            parsed = parse_group(group, stream_from=self.big_object_bytes)
            self.pending[group_id] = parsed
        else:  # its rows would cost several times its size: they wait on disk
            spill = Spill()
            try:
                parsed = parse_group(group, DEDUP_COLUMNS, self.big_object_bytes, spill)
            except BaseException:
                spill.discard()
                raise
            self.pending[group_id] = _Spilled(spill, parsed.tables.get(DIGESTS))
        keys = {name: _keys_of(table) for name, table in parsed.tables.items()}
        return ParsedGroup(keys, parsed.results, parsed.ranges)

    def write(self, group_id: int, masks: Masks) -> None:
        """Write the rows of a group that the dedup kept."""
        pending = self.pending.pop(group_id)
        if isinstance(pending, ParsedGroup):
            for name, rows in pending.tables.items():
                self._write(name, rows, masks.get(name))
            return
        written = dict.fromkeys(masks, 0)
        for name, rows in pending.spill.take():
            mask, start = masks.get(name), written.get(name, 0)
            self._write(name, rows, None if mask is None else mask[start : start + rows.num_rows])
            written[name] = start + rows.num_rows
        if pending.digests is not None:
            self._write(DIGESTS, pending.digests, masks.get(DIGESTS))
        if any(mask is not None and written.get(name, 0) != len(mask) for name, mask in masks.items()):
            raise RuntimeError("internal error: a big object's spilled rows do not match its keys")
        give_back()  # hand the big object's pages back at once

    def _write(self, name: str, rows: pa.Table, mask: list[bool] | None) -> None:
        if mask is not None and not all(mask):  # filtering copies the table: only for duplicates
            rows = rows.filter(pa.array(mask, pa.bool_()))
        if rows.num_rows == 0:
            return
        if name not in self.streams:
            partition, encoding = ("event_date", _ENCODING) if name in _PARTITIONED else (None, Encoding())
            self.streams[name] = TableStream(
                table_uri(self.lake_root, name), rows.schema, partition, encoding=encoding
            )
        self.streams[name].write(rows)

    def close(self) -> Files:
        """Finish every open file: what the next commit adds, per table."""
        files = {name: (s.schema, s.partition_by, s.close()) for name, s in self.streams.items()}
        self.streams.clear()
        give_back()
        return files

    def handle(self, message: tuple[Any, ...]) -> Any:
        kind = message[0]
        if kind == "parse":
            return self.parse(message[1], message[2])
        if kind == "write":
            self.write(message[1], message[2])
            return None
        return self.close()


def _keys_of(table: pa.Table) -> pa.Table:
    """The dedup key columns; a table without event keys (digests) travels as its empty schema."""
    return table.select(DEDUP_COLUMNS) if "eventID" in table.column_names else table.schema.empty_table()


def _serve(connection: Connection, lake_root: str, big_object_bytes: int) -> None:
    """A parser process's loop: answer messages until the main process closes the pipe.

    A thread takes messages off the pipe as they come, so the main process never blocks sending
    while this process blocks sending a reply (both pipe buffers full would deadlock).
    """
    inbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()

    def receive() -> None:
        while True:
            try:
                inbox.put(connection.recv())
            except (EOFError, OSError):
                inbox.put(None)
                return

    threading.Thread(target=receive, daemon=True).start()
    reuse_freed_memory()
    gc.freeze()  # the libraries' objects, imported by now: no collection needs to walk them again
    # Parsing makes next to no reference cycles, yet its allocations set off collection after
    # collection (3% of a parser's CPU): collect once per commit instead, after its files close.
    gc.disable()
    state = ParseWriter(lake_root, big_object_bytes)
    while (message := inbox.get()) is not None:
        kind = message[0]
        try:
            reply = state.handle(message)
        except Exception as error:  # the main process reports it and stops the run
            trace = "" if isinstance(error, TrailhouseError) else f"\n{traceback.format_exc()}"
            kind, reply = "error", f"{type(error).__name__}: {error}{trace}"
        try:
            if kind != "write":
                connection.send((kind, reply))
        except OSError:  # the main process is gone (killed): nobody to answer, nothing committed
            return
        if kind == "error":
            return
        if kind == "close":
            gc.collect()


class _Replies:
    """Replies come in request order; a commit's "close" may find parse replies before its own."""

    def __init__(self) -> None:
        self.early: deque[ParsedGroup] = deque()

    def _next(self) -> tuple[str, Any]:
        raise NotImplementedError

    def parsed(self) -> ParsedGroup:
        """The oldest parse request's answer."""
        if self.early:
            return self.early.popleft()
        kind, reply = self._next()
        assert kind == "parse", kind
        return reply  # type: ignore[no-any-return]

    def ready(self) -> bool:
        """Whether the oldest parse request's answer can be had without waiting."""
        raise NotImplementedError

    def closed(self) -> Files:
        """The answer to "close", keeping parse answers that come first for `parsed`."""
        while True:
            kind, reply = self._next()
            if kind == "close":
                return reply  # type: ignore[no-any-return]
            self.early.append(reply)


class InProcessParser(_Replies):
    """The same protocol without a process (workers=1): least memory."""

    def __init__(self, lake_root: str, big_object_bytes: int) -> None:
        super().__init__()
        self.state = ParseWriter(lake_root, big_object_bytes)
        self.replies: deque[tuple[str, Any]] = deque()

    def send(self, message: tuple[Any, ...]) -> None:
        reply = self.state.handle(message)
        if message[0] != "write":
            self.replies.append((message[0], reply))

    def _next(self) -> tuple[str, Any]:
        return self.replies.popleft()

    def ready(self) -> bool:
        return bool(self.early or self.replies)

    def stop(self) -> None:
        return None


class ParserProcess(_Replies):
    """A parser in a Python process of its own, over a socket pair.

    Not multiprocessing's fork (a forked child of a process that touched deltalake panics) nor
    its spawn (which runs the main program again in each child and starts a resource-tracker
    process: 11 MiB that ingest never uses). The child imports the same trailhouse as this
    process and ignores Ctrl-C and SIGTERM: this process stops it by closing the pipe.
    """

    def __init__(self, lake_root: str, big_object_bytes: int) -> None:
        super().__init__()
        ours, theirs = socket.socketpair()
        code = "from trailhouse.ingest.parsers import serve_child; serve_child()"
        package_root = str(Path(trailhouse.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno()), lake_root, str(big_object_bytes)],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path},
        )
        theirs.close()
        self.connection = Connection(ours.detach())

    def send(self, message: tuple[Any, ...]) -> None:
        try:
            self.connection.send(message)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise self._died() from None

    def _next(self) -> tuple[str, Any]:
        try:
            kind, reply = self.connection.recv()
        except (EOFError, ConnectionResetError):
            raise self._died() from None
        if kind == "error":
            raise ParserDied(f"a parser process failed: {reply}")
        return kind, reply

    def ready(self) -> bool:
        return bool(self.early) or self.connection.poll()  # a dead process reads as ready: EOF

    def _died(self) -> ParserDied:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        return ParserDied(f"a parser process ended unexpectedly (exit code {self.process.returncode})")

    def stop(self) -> None:
        self.connection.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_child() -> None:
    """A parser process's entry point: `python -c ... FD LAKE_ROOT BIG_OBJECT_BYTES`.

    Ctrl-C and SIGTERM sent to the whole process group (a terminal, systemd) are for the main
    process, which then finishes its batch with the parsers' help and closes their pipes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fd, lake_root, big_object_bytes = sys.argv[1:]
    _serve(Connection(int(fd)), lake_root, int(big_object_bytes))


Parser = InProcessParser | ParserProcess


def first_ready(parsers: Sequence[Parser]) -> Parser:
    """One of `parsers` (each with a parse request outstanding) whose answer has come, waiting
    for the first to come when none has."""
    while True:
        for parser in parsers:
            if parser.ready():
                return parser
        multiprocessing.connection.wait([p.connection for p in parsers if isinstance(p, ParserProcess)])


def start_parsers(count: int, lake_root: str, big_object_bytes: int = BIG_OBJECT_BYTES) -> list[Parser]:
    """`count` parser processes, or one in-process parser when count is 1 (asked explicitly)."""
    if count == 1:
        return [InProcessParser(lake_root, big_object_bytes)]
    return [ParserProcess(lake_root, big_object_bytes) for _ in range(count)]
