"""Ingest writes its Parquet files for speed, compaction rewrites them for reading."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import event, log_key, write_log
from tests.ingest.test_pipeline import run
from trailhouse import lifecycle
from trailhouse.lake import Lake


def _chunks(lake: Lake) -> dict[str, pq.ColumnChunkMetaData]:
    [path] = lake.files("cloudtrail") or []
    group = pq.ParquetFile(path.removeprefix("file://")).metadata.row_group(0)
    return {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}


def _delta_stats(lake: Lake) -> dict[str, dict[str, object]]:
    """minValues of the newest add action in the cloudtrail table's log."""
    log = sorted((Path(lake.root) / "cloudtrail" / "_delta_log").glob("*.json"))[-1]
    adds = [json.loads(line)["add"] for line in log.read_text().splitlines() if '"add"' in line]
    return json.loads(adds[-1]["stats"])["minValues"]  # type: ignore[no-any-return]


def _ingested(tmp_path: Path) -> Lake:
    records = [
        event(
            eventTime=f"2026-11-01T10:0{i}:00Z",
            requestParameters={"bucketName": "logs"},
            resources=[{"ARN": "arn:aws:s3:::logs", "accountId": "012345678901", "type": "AWS::S3::Bucket"}],
        )
        for i in range(5)
    ]
    write_log(tmp_path / "b", log_key(), records)
    lake = Lake(tmp_path / "lake")
    run(tmp_path / "b", lake)
    return lake


def test_ingest_skips_dictionaries_of_distinct_values_and_statistics_of_json_text(tmp_path: Path) -> None:
    lake = _ingested(tmp_path)
    chunks = _chunks(lake)
    for long in ("eventID", "eventTime", "requestParameters", "resources.list.element.ARN", "source_object"):
        assert chunks[long].compression == "ZSTD", long
    for short in ("eventName", "readOnly", "userIdentity.arn", "addendum.reason"):
        assert chunks[short].compression == "UNCOMPRESSED", short  # dictionary-encoded or null
    for distinct in ("eventID", "requestID", "eventTime", "requestParameters"):
        assert chunks[distinct].dictionary_page_offset is None, distinct
    for repeated in ("eventName", "userIdentity.arn", "resources.list.element.type"):
        assert chunks[repeated].dictionary_page_offset is not None, repeated
    assert not chunks["requestParameters"].is_stats_set
    assert chunks["eventTime"].is_stats_set and chunks["eventName"].is_stats_set
    stats = _delta_stats(lake)  # the Delta log skips them too
    assert "eventTime" in stats and "requestParameters" not in stats


def test_compaction_writes_dictionaries_and_statistics_for_every_column(tmp_path: Path) -> None:
    lake = _ingested(tmp_path)
    lifecycle.compact(lake)  # rewritten: the file lacks the derived columns
    chunks = _chunks(lake)
    assert all(c.compression == "ZSTD" for c in chunks.values())
    assert chunks["eventName"].dictionary_page_offset is not None
    assert chunks["requestParameters"].is_stats_set
    assert "requestParameters" in _delta_stats(lake)
