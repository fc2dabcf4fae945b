"""The records of a big CloudTrail file, a few MiB at a time, without its whole text in memory.

A log file is `{"Records":[record, record, ...]}`. The gunzipped text is read in chunks; a
vectorised scan (numpy) finds where each element of the Records array ends: commas and the
closing bracket that sit outside strings (a quote counts unless an odd run of backslashes precedes
it) at the array's own depth. Each scan starts at an element boundary, outside any string, so no
state crosses chunks; an unfinished element waits for the next chunk. Elements are handed out as
copies, in batches of about `batch` bytes, and are validated by the parser that decodes them.
Files of another shape are not streamed (`open_stream` returns None): the whole-text path reads
them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import msgspec
import numpy as np
from isal import igzip

from trailhouse.errors import ObjectReadError

GZIP_MAGIC = b"\x1f\x8b"
_HEAD = re.compile(rb"\s*\{\s*\"Records\"\s*:\s*\[")
_CHUNK = 64 * 1024  # of text scanned at once: its temporaries (~12 bytes a byte) stay on the heap
_BACKSLASH, _QUOTE, _COMMA = 92, 34, 44
_DEPTH_STEP = np.zeros(256, np.int8)
_DEPTH_STEP[[ord("{"), ord("[")]] = 1
_DEPTH_STEP[[ord("}"), ord("]")]] = -1


class _Envelope(msgspec.Struct):
    Records: list[msgspec.Raw] | None = None


ENVELOPE = msgspec.json.Decoder(_Envelope)  # a log file's Records as raw values; other keys ignored


class RecordStream:
    """One object's records in batches; `size` (bytes of JSON) and `count` are final once read."""

    def __init__(self, data: bytes, chunk: int = _CHUNK) -> None:
        self.data = data
        self.chunk = chunk
        self.size = 0
        self.count = 0

    def _text(self) -> io.BufferedIOBase:
        if self.data.startswith(GZIP_MAGIC):
            return igzip.GzipFile(fileobj=io.BytesIO(self.data))  # type: ignore[no-untyped-call]
        return io.BytesIO(self.data)

    def batches(self, batch: int) -> Iterator[list[msgspec.Raw]]:
        """The records, in order, about `batch` bytes at a time."""
        self.size = self.count = 0
        try:
            yield from self._batches(batch)
        except (OSError, EOFError) as error:
            raise ObjectReadError(f"not a readable gzip file: {error}") from None

    def _batches(self, batch: int) -> Iterator[list[msgspec.Raw]]:
        text = self._text()
        buffer = text.read(max(self.chunk, 256))
        self.size = len(buffer)
        head = _HEAD.match(buffer)
        if head is None:
            raise ObjectReadError("not a streamable CloudTrail log file")
        buffer = buffer[head.end() :]
        pending: list[msgspec.Raw] = []
        pending_bytes = 0
        while True:
            more = text.read(self.chunk)
            self.size += len(more)
            buffer += more
            elements, consumed, closed = split_elements(buffer)
            for element in elements:
                pending.append(msgspec.Raw(element))
                pending_bytes += len(element)
                if pending_bytes >= batch:
                    self.count += len(pending)
                    yield pending
                    pending, pending_bytes = [], 0
            buffer = buffer[consumed:]
            if closed:
                break
            if not more:
                raise ObjectReadError("not valid JSON: the Records list is not closed")
        rest = buffer + text.read()
        self.size += len(rest) - len(buffer)
        _check_tail(rest)
        if pending:
            self.count += len(pending)
            yield pending


def open_stream(data: bytes) -> RecordStream | None:
    """A stream of the object's records, if it has the usual shape (checked on its first bytes)."""
    try:
        start = RecordStream(data)._text().read(256)
    except (OSError, EOFError):
        return None
    return RecordStream(data) if _HEAD.match(start) else None


def split_elements(buffer: bytes) -> tuple[list[bytes], int, bool]:
    """The finished elements of a JSON array body starting at an element boundary.

    Returns the elements (whitespace stripped), how many bytes they used (up to and including their
    separators, or the closing bracket), and whether the closing bracket was reached.
    """
    codes = np.frombuffer(buffer, np.uint8)
    if not len(codes):
        return [], 0, False
    escaped = np.zeros(len(codes), bool)
    slashes = np.flatnonzero(codes == _BACKSLASH)
    if len(slashes):
        breaks = np.flatnonzero(np.diff(slashes) != 1)
        firsts = slashes[np.r_[0, breaks + 1]]
        lasts = slashes[np.r_[breaks, len(slashes) - 1]]
        after_odd_run = lasts[(lasts - firsts) % 2 == 0] + 1
        escaped[after_odd_run[after_odd_run < len(codes)]] = True
    quotes = (codes == _QUOTE) & ~escaped
    outside = (np.cumsum(quotes, dtype=np.int32) & 1) == 0  # a closing quote is not structural
    depth = np.cumsum(np.where(outside, _DEPTH_STEP[codes], 0), dtype=np.int32)
    level = outside & (depth == 0)
    separators = np.flatnonzero(level & (codes == _COMMA))
    ends = np.flatnonzero(outside & (depth == -1))
    closed = bool(len(ends))
    stop = int(ends[0]) if closed else len(codes)
    separators = separators[separators < stop]
    elements = []
    start = 0
    for comma in separators.tolist():
        elements.append(_element(buffer[start:comma]))
        start = comma + 1
    if not closed:
        return elements, start, False
    last = buffer[start:stop].strip()
    if last:
        elements.append(last)
    elif elements:
        raise ObjectReadError("not valid JSON: a comma before the end of the Records list")
    return elements, stop + 1, True


def _element(raw: bytes) -> bytes:
    element = raw.strip()
    if not element:
        raise ObjectReadError("not valid JSON: an empty element in the Records list")
    return element


def _check_tail(rest: bytes) -> None:
    """What follows the Records list must close the envelope (other keys are allowed)."""
    try:
        envelope = ENVELOPE.decode(b'{"Records":[]' + rest)
    except msgspec.DecodeError as error:
        raise ObjectReadError(f"not valid JSON: {error}") from None
    except msgspec.ValidationError as error:
        raise ObjectReadError(f"not a CloudTrail log file: {error}") from None
    if envelope.Records:
        raise ObjectReadError('not a CloudTrail log file: a second "Records" list')
