"""A folder holding a copy of a CloudTrail bucket (or any folder of CloudTrail files)."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from trailhouse.errors import ObjectReadError, SourceError
from trailhouse.sources.base import OBJECT_GONE, ObjectRef

_DAY_FOLDER = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})$")


class LocalSource:
    """Every file under a folder, day folders in date order (so duplicates meet in the same day)."""

    local_files = True  # the parsers read them (see sources.base.Source)

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(
                f"No folder at '{root}'\nPass a folder holding CloudTrail files (e.g. a copy of the bucket)."
            )
        self.root = root.resolve()
        self.name = str(self.root)

    def objects(self) -> Iterator[ObjectRef]:
        # Only folder names are kept in memory, never the whole listing.
        by_day: dict[str, list[str]] = defaultdict(list)
        for folder in self._folders(str(self.root)):
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            found = _DAY_FOLDER.search(relative)
            if found:
                by_day["-".join(found.groups())].append(folder)
            else:
                yield from self._files(folder)
        for day in sorted(by_day):
            for folder in sorted(by_day[day]):
                yield from self._files(folder)

    def _folders(self, top: str) -> Iterator[str]:
        yield top
        with os.scandir(top) as entries:
            children = sorted(e.path for e in entries if e.is_dir(follow_symlinks=False))
        for child in children:
            yield from self._folders(child)

    def _files(self, folder: str) -> Iterator[ObjectRef]:
        relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
        prefix = "" if relative == "." else f"{relative}/"  # once per folder: relpath is slow
        with os.scandir(folder) as entries:
            files = sorted((e for e in entries if e.is_file()), key=lambda e: e.name)
        for entry in files:
            yield ObjectRef(uri=entry.path, key=prefix + entry.name, size=entry.stat().st_size)

    def read(self, ref: ObjectRef) -> bytes:
        return read_file(ref.uri)

    def committed(self, refs: Sequence[ObjectRef]) -> None:
        return None

    def close(self) -> None:
        return None


def read_file(path: str) -> bytes:
    """A local object's bytes; ObjectReadError says why they cannot be had."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ObjectReadError(OBJECT_GONE) from None
    except OSError as error:
        raise ObjectReadError(f"cannot read the file: {error.strerror}") from None
