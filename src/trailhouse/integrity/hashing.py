"""SHA-256 of a log file's uncompressed content, streamed (bounded memory) and fast (ISA-L inflate).

CloudTrail's digest lists, for each log file, the hex SHA-256 of the file after gunzip. Both the
signer and the validator hash through here, so they cannot disagree about what is hashed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from isal import isal_zlib

CHUNK = 1 << 20  # read size: large enough that per-call overhead vanishes, small enough to bound memory
_GZIP_MAGIC = b"\x1f\x8b"
_EVENT_TIME = re.compile(rb'"eventTime"\s*:\s*"([0-9T:.Z+-]{10,40})"')
_TAIL = 64  # bytes kept between chunks so an eventTime split across two chunks is still seen


@dataclass(frozen=True)
class FileHash:
    """A log file's hash and, when asked for, its oldest and newest event times (text as in the file)."""

    sha256: str
    size: int  # uncompressed bytes
    oldest_event: str | None = None
    newest_event: str | None = None


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Uncompressed bytes of a (possibly multi-member) gzip stream, or the bytes as they are."""
    first = next(chunks, b"")
    if not first.startswith(_GZIP_MAGIC):
        if first:
            yield first
        yield from chunks
        return
    inflater = isal_zlib.decompressobj(31)
    pending: bytes | None = first
    while pending is not None:
        data = pending
        while data:
            out = inflater.decompress(data)
            if out:
                yield out
            if inflater.eof:
                # Concatenated gzip members (allowed by the format): start a new inflater.
                data = inflater.unused_data
                inflater = isal_zlib.decompressobj(31)
            else:
                data = b""
        pending = next(chunks, None)
    tail = inflater.flush()
    if tail:
        yield tail


def hash_chunks(chunks: Iterable[bytes], *, event_times: bool = False) -> FileHash:
    """Hash a stored object's bytes (gzip or plain), streaming."""
    digest = hashlib.sha256()
    size = 0
    oldest: bytes | None = None
    newest: bytes | None = None
    carry = b""
    for data in _inflate(iter(chunks)):
        digest.update(data)
        size += len(data)
        if event_times:
            window = carry + data
            for match in _EVENT_TIME.finditer(window):
                if match.end() <= len(carry):
                    continue  # already seen in the previous window
                value = match[1]
                oldest = value if oldest is None or value < oldest else oldest
                newest = value if newest is None or value > newest else newest
            carry = window[-_TAIL:]
    return FileHash(
        sha256=digest.hexdigest(),
        size=size,
        oldest_event=oldest.decode() if oldest is not None else None,
        newest_event=newest.decode() if newest is not None else None,
    )


def read_chunks(stream: IO[bytes], size: int = CHUNK) -> Iterator[bytes]:
    read: Callable[[int], bytes] = stream.read
    while chunk := read(size):
        yield chunk


def hash_path(path: Path | str, *, event_times: bool = False) -> FileHash:
    """Hash a local file (gzip or plain) without holding it in memory."""
    with open(path, "rb") as stream:
        return hash_chunks(read_chunks(stream), event_times=event_times)


def gunzip(data: bytes) -> bytes:
    """A whole (small) object's uncompressed bytes: digests are a few KB."""
    return b"".join(_inflate(iter([data])))


def hash_uri(uri: str) -> FileHash | None:
    """Hash a log file at a local path or s3:// uri; None when it does not exist (runs in workers)."""
    if uri.startswith("s3://"):
        from trailhouse.sources import digest_objects

        bucket, key = digest_objects.split_uri(uri)
        chunks = digest_objects.stream_object(bucket, key)
        return None if chunks is None else hash_chunks(chunks)
    try:
        return hash_path(uri)
    except (FileNotFoundError, IsADirectoryError):
        return None


def hash_uris(uris: list[str]) -> list[FileHash | None]:
    """`hash_uri` of several files: one task for a worker process."""
    return [hash_uri(uri) for uri in uris]
