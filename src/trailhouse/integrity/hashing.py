"""SHA-256 of a log file's uncompressed content, streamed (bounded memory) and fast (ISA-L inflate).

CloudTrail's digest lists, for each log file, the hex SHA-256 of the file after gunzip. Both the
signer and the validator hash through here, so they cannot disagree about what is hashed.

Where the time goes (CloudTrail JSON inflates about 6x): inflating and SHA-256 cost about the same
per uncompressed byte, and both release the GIL. Compressed input is inflated a `PIECE` at a time so
that its output (a few hundred KB) is hashed while it is still in the CPU cache, and local files are
read into one buffer reused for a whole batch of files rather than a new bytes object per read.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import RawIOBase
from pathlib import Path

import deflate
from isal import isal_zlib

READ_SIZE = 1 << 20  # one read of a local file: large enough that per-call overhead vanishes
PIECE = 32 << 10  # compressed bytes per inflate call; the output stays in cache for SHA-256
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MEMBER = b"\x1f\x8b\x08"  # magic and the deflate method: how every gzip member starts
WHOLE_FILE_LIMIT = 8 << 20  # stored bytes (~50 MB inflated) a worker may hold at once
_EVENT_TIME = re.compile(rb'"eventTime"\s*:\s*"([0-9T:.Z+-]{10,40})"')
_TAIL = 64  # bytes kept between chunks so an eventTime split across two chunks is still seen


@dataclass(frozen=True)
class FileHash:
    """A log file's hash and, when asked for, its oldest and newest event times (text as in the file)."""

    sha256: str
    size: int  # uncompressed bytes
    oldest_event: str | None = None
    newest_event: str | None = None


Chunk = bytes | bytearray | memoryview


def _pieces(chunks: Iterable[Chunk]) -> Iterator[memoryview]:
    """The chunks cut into `PIECE`-sized views (no copy)."""
    for chunk in chunks:
        view = memoryview(chunk)
        if len(view) <= PIECE:
            if view:
                yield view
            continue
        for start in range(0, len(view), PIECE):
            yield view[start : start + PIECE]


def _inflate(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """Uncompressed bytes of a (possibly multi-member) gzip stream, or the bytes as they are.

    Each chunk yielded is used before the next is asked for: chunks may be views of a reused buffer.
    """
    pieces = _pieces(chunks)
    first = next(pieces, None)
    if first is None:
        return
    if first[:2] != _GZIP_MAGIC:
        yield first
        yield from pieces
        return
    inflater = isal_zlib.decompressobj(31)
    pending: Chunk | None = first
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
        pending = next(pieces, None)
    tail = inflater.flush()
    if tail:
        yield tail


def hash_chunks(chunks: Iterable[Chunk], *, event_times: bool = False) -> FileHash:
    """Hash a stored object's bytes (gzip or plain), streaming."""
    digest = hashlib.sha256()
    size = 0
    oldest: bytes | None = None
    newest: bytes | None = None
    carry = b""
    for data in _inflate(chunks):
        digest.update(data)
        size += len(data)
        if event_times:
            window = carry + bytes(data)
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


def read_into(stream: RawIOBase, buffer: bytearray) -> Iterator[memoryview]:
    """A file's bytes as views of `buffer`, refilled by each read: use each before asking for the next."""
    view = memoryview(buffer)
    while count := stream.readinto(view):
        yield view[:count]


def hash_path(path: Path | str, *, event_times: bool = False, buffer: bytearray | None = None) -> FileHash:
    """Hash a local file (gzip or plain); `buffer` may be reused across files.

    A file of one gzip member up to WHOLE_FILE_LIMIT is inflated by libdeflate in one call (~20%
    less CPU than streaming through ISA-L); anything else streams, so memory stays bounded.
    """
    with open(path, "rb", buffering=0) as stream:
        if not event_times and os.fstat(stream.fileno()).st_size <= WHOLE_FILE_LIMIT:
            data = stream.read()
            whole = _inflate_one_member(data)
            if whole is None:
                return hash_chunks([data])
            return FileHash(hashlib.sha256(whole).hexdigest(), len(whole))
        chunks = read_into(stream, bytearray(READ_SIZE) if buffer is None else buffer)
        return hash_chunks(chunks, event_times=event_times)


def _inflate_one_member(data: bytes) -> bytearray | None:
    """`data` inflated in one call when it is surely a single gzip member; else None (stream it).

    libdeflate stops after the first member, so a file with another member header anywhere after
    the first (a real one, or those bytes by chance in compressed data) takes the streaming path.
    """
    if data[:3] != _GZIP_MEMBER or data.find(_GZIP_MEMBER, 10) != -1:
        return None
    try:
        inflated = deflate.gzip_decompress(data)
    except deflate.DeflateError:
        return None  # the streaming path reports the damage as it always has
    return inflated


def gunzip(data: bytes) -> bytes:
    """A whole (small) object's uncompressed bytes: digests are a few KB."""
    return b"".join(_inflate(iter([data])))


def hash_uri(uri: str, buffer: bytearray | None = None) -> FileHash | None:
    """Hash a log file at a local path or s3:// uri; None when it does not exist (runs in workers)."""
    if uri.startswith("s3://"):
        from trailhouse.sources import digest_objects

        bucket, key = digest_objects.split_uri(uri)
        chunks = digest_objects.stream_object(bucket, key)
        return None if chunks is None else hash_chunks(chunks)
    try:
        return hash_path(uri, buffer=buffer)
    except (FileNotFoundError, IsADirectoryError):
        return None


def hash_uris(uris: list[str]) -> list[FileHash | None]:
    """`hash_uri` of several files, one read buffer for all: one task for a worker."""
    buffer = bytearray(READ_SIZE)
    return [hash_uri(uri, buffer) for uri in uris]
