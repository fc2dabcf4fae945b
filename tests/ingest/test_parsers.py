"""Parsers: the memory rule (an object from its threshold up is held as bytes and keys, not rows),
and parser processes."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import ACCOUNT, event
from trailhouse.ingest import reader
from trailhouse.ingest.parsers import ParserDied, ParserProcess, ParseWriter, start_parsers
from trailhouse.ingest.reader import ParsedGroup
from trailhouse.ingest.spill import Spill
from trailhouse.model.schema import DEDUP_COLUMNS

_MIB = 1024 * 1024


def test_parse_writer_defers_objects_from_its_threshold_and_writes_the_same_rows(tmp_path: Path) -> None:
    records = [
        event(eventID=str(uuid.UUID(int=i)), requestParameters={"padding": "x" * 1500}) for i in range(800)
    ]
    body = json.dumps({"Records": records}).encode()
    assert _MIB < len(body) < 4 * _MIB
    items = [("events", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/x.json", body)]
    for threshold, deferred in ((4 * _MIB, False), (_MIB, True)):  # above the object, then below it
        writer = ParseWriter(str(tmp_path / f"lake-{threshold}"), threshold)
        keys = writer.parse(0, items)
        assert keys.tables["cloudtrail"].column_names == list(DEDUP_COLUMNS)
        assert isinstance(writer.pending[0], ParsedGroup) is not deferred  # rows held, or bytes only
        writer.write(0, {"cloudtrail": [i % 4 != 0 for i in range(800)]})  # every fourth a duplicate
        _, _, files = writer.close()["cloudtrail"]
        assert sum(f.rows for f in files) == 600


def test_parser_processes_answer_and_one_that_dies_is_reported_with_its_exit_code(tmp_path: Path) -> None:
    body = json.dumps({"Records": [event()]}).encode()
    items = [("events", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/x.json", body)]
    alive, doomed = start_parsers(2, str(tmp_path / "lake"))
    try:
        assert isinstance(alive, ParserProcess) and isinstance(doomed, ParserProcess)
        alive.send(("parse", 0, items))
        assert alive.parsed().tables["cloudtrail"].num_rows == 1
        doomed.process.kill()
        doomed.process.wait()
        with pytest.raises(ParserDied, match=r"ended unexpectedly \(exit code -9\)"):
            doomed.send(("parse", 1, items))
            doomed.parsed()
    finally:
        alive.stop()
        doomed.stop()
    assert alive.process.returncode == 0  # it left when its pipe closed


def test_parse_writer_spills_a_big_group_and_writes_none_of_an_object_that_breaks_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "_UNIT_BYTES", 2000)  # many units per object
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    good = [event(eventID=str(uuid.UUID(int=i))) for i in range(50)]
    broken = gzip.compress(json.dumps({"Records": [event() for _ in range(400)]}).encode())
    truncated = broken[: len(broken) * 2 // 3]  # its first units parse, then the gzip stream ends
    key = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/01"
    items = [
        ("events", f"{key}/good.json", json.dumps({"Records": good}).encode()),
        ("events", f"{key}/broken.json.gz", truncated),
    ]
    writer = ParseWriter(str(tmp_path / "lake"), big_object_bytes=1000)
    keys = writer.parse(0, items)
    assert isinstance(keys.results[1], str) and "gzip" in keys.results[1]
    assert keys.tables["cloudtrail"].num_rows == 50
    writer.write(0, {"cloudtrail": [True] * 50})
    _, _, files = writer.close()["cloudtrail"]
    assert sum(f.rows for f in files) == 50
    assert not list(tmp_path.glob("trailhouse-spill-*"))  # spill files are anonymous


def test_spill_gives_back_units_in_order_and_forgets_those_rolled_back() -> None:
    spill = Spill()
    spill.put("cloudtrail", pa.table({"n": [1, 2]}))
    mark = spill.mark()
    spill.put("cloudtrail", pa.table({"n": [3]}))
    spill.rollback(mark)
    spill.put("cloudtrail_insights", pa.table({"n": [4]}))
    taken = [(name, rows.column("n").to_pylist()) for name, rows in spill.take()]
    assert taken == [("cloudtrail", [1, 2]), ("cloudtrail_insights", [4])]
    assert list(spill.take()) == []


def test_parser_processes_outlive_a_sigterm_to_their_group_and_leave_when_their_pipe_closes(
    tmp_path: Path,
) -> None:
    # systemd and terminals signal the whole process group: the main process drains its batch
    # with the parsers' help, then closes their pipes.
    body = json.dumps({"Records": [event()]}).encode()
    items = [("events", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/x.json", body)]
    parsers = start_parsers(2, str(tmp_path / "lake"))
    try:
        for n, parser in enumerate(parsers):
            parser.send(("parse", n, items))
            parser.parsed()  # started: past its imports
        for parser in parsers:
            assert isinstance(parser, ParserProcess)
            parser.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        for n, parser in enumerate(parsers, start=2):
            assert isinstance(parser, ParserProcess) and parser.process.poll() is None
            parser.send(("parse", n, items))
            assert parser.parsed().tables["cloudtrail"].num_rows == 1
    finally:
        for parser in parsers:
            parser.stop()
    assert [p.process.returncode for p in parsers if isinstance(p, ParserProcess)] == [0, 0]


def test_a_lake_deleted_under_a_parser_is_reported_in_one_clear_line(tmp_path: Path) -> None:
    body = json.dumps({"Records": [event()]}).encode()
    items = [("events", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/x.json", body)]
    parsers = start_parsers(2, str(tmp_path / "lake"))
    parser = parsers[0]
    try:
        parser.send(("parse", 0, items))
        parser.parsed()
        parser.send(("write", 0, {"cloudtrail": None}))
        parser.send(("parse", 1, items))
        parser.parsed()  # answered after the write: the file exists
        shutil.rmtree(tmp_path / "lake")  # someone deletes the lake during the run
        parser.send(("close",))
        with pytest.raises(ParserDied) as failure:
            parser.closed()
    finally:
        for each in parsers:
            each.stop()
    message = str(failure.value)
    assert message.startswith("a parser process failed: ConcurrentChangeError: The file 'event_date=")
    assert "is gone from" in message and "Nothing was committed" in message
    assert "Traceback" not in message  # our own errors speak for themselves
