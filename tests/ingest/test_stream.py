"""Streamed records of big objects equal what msgspec finds in the whole text, whatever the chunks."""

from __future__ import annotations

import gzip
import json

import msgspec
import pytest

from tests.conftest import CORPUS, event
from trailhouse.errors import ObjectReadError
from trailhouse.ingest.stream import RecordStream, open_stream


class _Envelope(msgspec.Struct):
    Records: list[msgspec.Raw] | None = None


def _whole(text: bytes) -> list[bytes]:
    return [bytes(r) for r in msgspec.json.decode(text, type=_Envelope).Records or []]


def _streamed(data: bytes, chunk: int) -> tuple[list[bytes], RecordStream]:
    stream = RecordStream(data, chunk)
    return [bytes(r) for batch in stream.batches(300) for r in batch], stream


TRICKY = {
    "Records": [
        {"a": 'x"},{\\', "b": [{"c": "]"}, {"d": "}\\"}], "e": '\\\\\\"', "u": "é\u2028"},
        42,
        "str,]",
        [1, [2, {"x": ","}]],
        None,
        {"k": "\\"},
        event(requestParameters={"policy": json.dumps({"Statement": [{"Effect": "Allow"}]})}),
    ]
}


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("compress", [False, True])
def test_stream_splits_like_the_whole_text_at_every_chunk_size(indent: int | None, compress: bool) -> None:
    text = json.dumps(TRICKY, indent=indent, ensure_ascii=False).encode()
    data = gzip.compress(text) if compress else text
    assert open_stream(data) is not None
    for chunk in range(1, 60):
        records, stream = _streamed(data, chunk)
        assert records == _whole(text)
        assert (stream.count, stream.size) == (len(records), len(text))


def test_stream_corpus_files_split_like_the_whole_text() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared conformance corpus is not at {CORPUS}")
    checked = 0
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.stat().st_size < 20_000_000):
        data = path.read_bytes()
        if open_stream(data) is None:
            continue
        text = gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data
        try:
            expected = _whole(text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            with pytest.raises(ObjectReadError):
                _streamed(data, 4096)
            continue
        assert _streamed(data, 4096)[0] == expected, path
        checked += 1
    assert checked > 10


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'{"Records":[{"a":1},{"b":2}', "not closed"),
        (b'{"Records":[{"a":1},]}', "a comma before the end"),
        (b'{"Records":[{"a":1},,{"b":2}]}', "an empty element"),
        (b'{"Records":[{"a":1}]} trailing', "not valid JSON"),
        (b'{"Records":[{"a":1}],"Records":[{"b":2}]}', 'a second "Records" list'),
    ],
)
def test_stream_refuses_broken_files_with_a_reason(text: bytes, reason: str) -> None:
    with pytest.raises(ObjectReadError, match=reason):
        _streamed(text, 5)


def test_stream_is_not_used_for_other_shapes() -> None:
    assert open_stream(b'{"other": 1, "Records": []}') is None
    assert open_stream(b"[1, 2]") is None
    assert open_stream(gzip.compress(b"not json")) is None
    assert open_stream(b'{"Records": [], "more": {"x": [1]}}') is not None
    assert _streamed(b'{"Records": [], "more": {"x": [1]}}', 3)[0] == []
