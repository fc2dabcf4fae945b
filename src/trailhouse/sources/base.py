"""What every source (folder, S3 listing, SQS notifications) offers the ingest pipeline.

A source lists object references, reads an object's bytes, and hears when objects are safely
committed (or recorded as skipped/quarantined), so a queue can acknowledge only then.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

OBJECT_GONE = "object no longer exists"  # ObjectReadError's reason when an object vanished: a skip


@dataclass(frozen=True)
class ObjectRef:
    """One object found by a source."""

    uri: str  # where it is: an absolute path or s3://bucket/key
    key: str  # its key relative to the source root, used for classification
    size: int | None = None
    etag: str = ""
    token: str = field(default="", compare=False)  # source-private (e.g. the SQS message id)


class Source(Protocol):
    """A place objects come from. A source whose `local_files` is true lists files of this
    machine (`ObjectRef.uri` is the path), which the parser processes then read themselves."""

    name: str

    def objects(self) -> Iterator[ObjectRef]:
        """The objects to consider, each once per call; may block (a queue being followed)."""
        ...

    def read(self, ref: ObjectRef) -> bytes:
        """The object's bytes as stored (gzip or not). Raises ObjectReadError if it is gone."""
        ...

    def committed(self, refs: Sequence[ObjectRef]) -> None:
        """These objects are durably recorded in the lake; a queue may acknowledge them now."""
        ...

    def close(self) -> None: ...
