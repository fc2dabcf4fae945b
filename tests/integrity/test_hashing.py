"""The SHA-256 CloudTrail records is of a log file's uncompressed content, whatever way it is read."""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import pytest

from trailhouse.integrity.hashing import PIECE, READ_SIZE, hash_chunks, hash_path, hash_uris


def _content(size: int) -> bytes:
    """JSON-like text with random ids: it compresses about 2:1, so the gzip is large too."""
    rng = random.Random(size)
    record = b'{"eventName": "GetObject", "eventID": "%s"}, '
    count = size // (len(record) + 30) + 1
    return b"".join(record % rng.randbytes(16).hex().encode() for _ in range(count))[:size]


def test_hash_path_reads_a_file_larger_than_its_buffer(tmp_path: Path) -> None:
    content = _content(8 * READ_SIZE)
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(content, mtime=0))
    assert path.stat().st_size > READ_SIZE  # several reads, each cut into several pieces
    result = hash_path(path)
    assert (result.sha256, result.size) == (hashlib.sha256(content).hexdigest(), len(content))


def test_hash_path_hashes_every_member_of_a_multi_member_gzip(tmp_path: Path) -> None:
    first, second = _content(3 * PIECE), _content(5 * PIECE + 7)
    path = tmp_path / "members.json.gz"
    path.write_bytes(gzip.compress(first, mtime=0) + gzip.compress(second, mtime=0))
    assert hash_path(path).sha256 == hashlib.sha256(first + second).hexdigest()
    # The second member starting inside a piece or exactly at a chunk boundary is still found.
    packed = path.read_bytes()
    cut = len(gzip.compress(first, mtime=0))
    for chunks in ([packed], [packed[:cut], packed[cut:]], [packed[: cut - 3], packed[cut - 3 :]]):
        assert hash_chunks(chunks).sha256 == hashlib.sha256(first + second).hexdigest()


def test_hash_path_hashes_a_plain_file_as_it_is(tmp_path: Path) -> None:
    content = _content(2 * READ_SIZE + 5)
    path = tmp_path / "plain.json"
    path.write_bytes(content)
    assert hash_path(path).sha256 == hashlib.sha256(content).hexdigest()
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert hash_path(empty).sha256 == hashlib.sha256(b"").hexdigest()


def test_hash_uris_reuses_one_buffer_without_mixing_files(tmp_path: Path) -> None:
    contents = [_content(READ_SIZE + 1000), b'{"Records": []}', _content(PIECE // 2)]
    paths = []
    for index, content in enumerate(contents):
        path = tmp_path / f"{index}.json.gz"
        path.write_bytes(gzip.compress(content, mtime=0))
        paths.append(str(path))
    results = hash_uris([*paths, str(tmp_path / "gone.json.gz")])
    assert [result.sha256 if result else None for result in results] == [
        *(hashlib.sha256(content).hexdigest() for content in contents),
        None,
    ]


def test_hash_path_finds_event_times_across_pieces(tmp_path: Path) -> None:
    filler = _content(3 * PIECE)
    content = (
        b'{"Records": [{"eventTime": "2026-07-29T09:00:00Z"}, '
        + filler
        + b'{"eventTime": "2026-07-29T10:00:00Z"}]}'
    )
    path = tmp_path / "times.json.gz"
    path.write_bytes(gzip.compress(content, mtime=0))
    result = hash_path(path, event_times=True)
    assert (result.oldest_event, result.newest_event) == ("2026-07-29T09:00:00Z", "2026-07-29T10:00:00Z")


def test_hash_path_reports_a_damaged_gzip_as_the_streaming_path_does(tmp_path: Path) -> None:
    # One member, inflated whole by libdeflate when intact; damaged, the error is the streaming one.
    content = _content(4 * PIECE)
    packed = bytearray(gzip.compress(content, mtime=0))
    path = tmp_path / "one.json.gz"
    path.write_bytes(packed)
    assert hash_path(path).sha256 == hashlib.sha256(content).hexdigest()
    packed[-8] ^= 0xFF  # the member's CRC-32 no longer matches its content
    path.write_bytes(packed)
    with pytest.raises(Exception) as streamed:
        hash_chunks([bytes(packed)])
    with pytest.raises(type(streamed.value)):
        hash_path(path)
