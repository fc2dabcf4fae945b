"""The parser's memory rule: an object from its threshold up is held as bytes and keys, not rows."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.conftest import ACCOUNT, event
from trailhouse.ingest.parsers import ParseWriter
from trailhouse.ingest.reader import ParsedGroup
from trailhouse.model.schema import DEDUP_COLUMNS

_MIB = 1024 * 1024


def test_parse_writer_defers_objects_from_its_threshold_and_writes_the_same_rows(tmp_path: Path) -> None:
    records = [
        event(eventID=str(uuid.UUID(int=i)), requestParameters={"padding": "x" * 1500}) for i in range(800)
    ]
    body = json.dumps({"Records": records}).encode()
    assert _MIB < len(body) < 4 * _MIB
    items = [("events", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/x.json", body)]
    for threshold, deferred in ((4 * _MIB, False), (_MIB, True)):  # the default, the low-memory one
        writer = ParseWriter(str(tmp_path / f"lake-{threshold}"), threshold)
        keys = writer.parse(0, items)
        assert keys.tables["cloudtrail"].column_names == list(DEDUP_COLUMNS)
        assert isinstance(writer.pending[0], ParsedGroup) is not deferred  # rows held, or bytes only
        writer.write(0, {"cloudtrail": [i % 4 != 0 for i in range(800)]})  # every fourth a duplicate
        _, _, files = writer.close()["cloudtrail"]
        assert sum(f.rows for f in files) == 600
