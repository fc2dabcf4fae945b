"""Rows set aside on local disk while their group waits for its dedup verdict.

A group holding a big object would otherwise keep all its rows in memory until the verdict (a
60 MB delivery is ~130 MiB of text and rows), or be parsed a second time. Its units go instead,
as they are parsed, into uncompressed Arrow IPC files in the temporary folder (TMPDIR), one per
unit; they are read back one at a time when the verdict comes. The files are anonymous (deleted
as soon as created, kept open): nothing is left behind, even by a process killed outright.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

import pyarrow as pa
import pyarrow.ipc as ipc


class Spill:
    """Units of rows on disk, in the order they were put."""

    def __init__(self) -> None:
        self._files: list[tuple[str, IO[bytes]]] = []  # (table, open anonymous file)

    def put(self, table: str, rows: pa.Table) -> None:
        file = tempfile.TemporaryFile(prefix="trailhouse-spill-")  # noqa: SIM115 (kept open until read)
        self._files.append((table, file))
        with ipc.new_file(file, rows.schema) as writer:
            writer.write_table(rows)

    def mark(self) -> int:
        """A point to go back to with `rollback`."""
        return len(self._files)

    def rollback(self, mark: int) -> None:
        """Forget the units put since `mark` (those of an object that then failed)."""
        for _, file in self._files[mark:]:
            file.close()
        del self._files[mark:]

    def take(self) -> Iterator[tuple[str, pa.Table]]:
        """Every unit, in order, each file closed once read; the spill is empty afterwards."""
        files, self._files = self._files, []
        try:
            for table, file in files:
                file.seek(0)
                data = file.read()
                file.close()
                yield table, ipc.open_file(pa.BufferReader(data)).read_all()
        finally:
            for _, file in files:
                file.close()

    def discard(self) -> None:
        self.rollback(0)
