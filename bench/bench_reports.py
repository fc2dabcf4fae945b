"""Benchmark: every report over the lake versus DuckDB asking the same question of the raw .json.gz files.

    .venv/bin/python bench/bench_reports.py --events 10000000            # 30 days, 20 accounts
    .venv/bin/python bench/bench_reports.py --events 200000 --days 3 --accounts 3   # a quick look

Steps (each skipped when its output already exists in --dir): generate a bucket with the sample
generator, ingest it, compact it (`trailhouse maintain compact`). Then, in one run, for each report:
the median of --repeat runs of `run_report` over the lake (one Engine, as the server keeps), and
DuckDB running the very same report SQL over a view of the raw files (read_json with
records='true', format='unstructured'), --baseline-runs times. Prints the medians and the ratio;
with --sections, each section's median too (where a report's time goes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from duckdb_types import RECORD  # noqa: E402  (bench/ is on the path of a bench script)
from trailhouse import lifecycle  # noqa: E402
from trailhouse.ingest.pipeline import IngestOptions, ingest  # noqa: E402
from trailhouse.lake import Lake  # noqa: E402
from trailhouse.query import derived  # noqa: E402
from trailhouse.query.engine import Engine, view_definitions  # noqa: E402
from trailhouse.query.reports import ReportParams, list_reports, run_report  # noqa: E402
from trailhouse.sample import SampleSpec, write_sample  # noqa: E402
from trailhouse.sources.local import LocalSource  # noqa: E402


class RawEngine:
    """What run_report needs of an Engine, over the raw files: query(), temporary tables and
    registered Arrow tables on its connection."""

    def __init__(self, bucket: Path) -> None:
        self.connection = duckdb.connect(config={"threads": 2})
        for table, folder in (("cloudtrail", "CloudTrail"), ("cloudtrail_insights", "CloudTrail-Insight")):
            files = sorted(str(p) for p in bucket.rglob("*.json.gz") if folder in p.parts)
            if not files:
                continue
            # the derived columns computed, as for lake files that compaction has not rewritten
            derived_columns = (
                f", {derived.select_list(table)}, false AS {derived.STORED}" if table == "cloudtrail" else ""
            )
            self.connection.execute(
                f"""CREATE VIEW {table} AS
                SELECT *{derived_columns} FROM (
                SELECT r.* REPLACE (CAST(r.eventTime AS TIMESTAMPTZ) AS eventTime,
                                    CAST(r.requestParameters AS VARCHAR) AS requestParameters,
                                    CAST(r.responseElements AS VARCHAR) AS responseElements,
                                    CAST(r.additionalEventData AS VARCHAR) AS additionalEventData,
                                    CAST(r.insightDetails AS VARCHAR) AS insightDetails),
                       CAST(CAST(r.eventTime AS TIMESTAMP) AS DATE) AS event_date
                FROM (SELECT unnest(Records) AS r
                      FROM read_json($files, records = 'true', format = 'unstructured',
                                     maximum_object_size = 1073741824,
                                     columns = {{'Records': '{RECORD}[]'}})))""".replace(
                    "$files", _list(files)
                )
            )
        for name, select in view_definitions():
            try:
                self.connection.execute(f"CREATE VIEW {name} AS {select}")
            except duckdb.CatalogException:
                continue

    def query(self, sql: str, params: Any = None) -> pa.Table:
        return self.connection.execute(sql, params).to_arrow_table()

    def create_temp_table(self, name: str, sql: str, params: Any = None) -> None:
        self.connection.execute(f"CREATE TEMP TABLE {name} AS {sql}", params)

    def drop_temp_table(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS temp.{name}")

    def register_arrow(self, name: str, data: pa.Table) -> None:
        self.connection.register(name, data)


def _list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def prepare(args: argparse.Namespace) -> tuple[Path, Lake]:
    base = Path(args.dir or ROOT / "bench-data" / f"reports-{args.events}")
    bucket, lake = base / "bucket", Lake(base / "lake")
    if not (bucket / "AWSLogs").exists():
        spec = SampleSpec(
            root=bucket,
            accounts=args.accounts,
            regions=args.regions,
            days=args.days,
            events=args.events,
            seed=1,
            digests=False,
            workers=2,
        )
        started = time.perf_counter()
        write_sample(spec, force=True)
        print(f"sample: {args.events} events in {time.perf_counter() - started:.0f} s", flush=True)
    if not lake.exists("cloudtrail"):
        started = time.perf_counter()
        result = ingest([LocalSource(bucket)], lake, IngestOptions(workers=2))
        print(f"ingest: {result.summary()[-1]} ({time.perf_counter() - started:.0f} s)", flush=True)
    if not (base / "compacted").exists():
        started = time.perf_counter()
        lifecycle.compact(lake)
        lifecycle.vacuum(lake, retention_hours=0, apply=True)
        (base / "compacted").touch()
        print(f"compact: {time.perf_counter() - started:.0f} s", flush=True)
    parts = lifecycle.partitions(lake, "cloudtrail")
    sizes = [p.bytes / p.files / 2**20 for p in parts]
    print(
        f"lake: {sum(p.rows for p in parts)} events, {len(parts)} partitions, "
        f"{sum(p.files for p in parts)} files, file size min {min(sizes):.0f} MB / median "
        f"{statistics.median(sizes):.0f} MB; partitions with more than one file: "
        f"{sum(1 for p in parts if p.files > 1)}",
        flush=True,
    )
    return bucket, lake


def timed(call: Any, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _run_timed(engine: Engine, name: str, params: ReportParams, sections: dict[str, list[float]]) -> None:
    timings: dict[str, float] = {}
    run_report(engine, name, params, timings=timings)
    for section, seconds in timings.items():
        sections.setdefault(section, []).append(seconds)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--dir", help="Where the bucket and lake live (default bench-data/reports-EVENTS).")
    parser.add_argument("--repeat", type=int, default=5, help="Runs of each report over the lake.")
    parser.add_argument("--baseline-runs", type=int, default=1, help="Runs of each report over raw JSON.")
    parser.add_argument("--reports", help="Comma-separated report names (default: all).")
    parser.add_argument("--no-baseline", action="store_true", help="Skip DuckDB over the raw files.")
    parser.add_argument(
        "--sections", action="store_true", help="Also print each section's median (internal ones too)."
    )
    args = parser.parse_args()

    bucket, lake = prepare(args)
    names = args.reports.split(",") if args.reports else [spec.name for spec in list_reports()]
    started = time.perf_counter()
    engine = Engine(lake)
    print(f"engine open: {time.perf_counter() - started:.3f} s", flush=True)
    raw = None if args.no_baseline else RawEngine(bucket)
    params = ReportParams()
    header = f"{'report':24} {'lake median':>12} {'lake max':>9}"
    header += "" if raw is None else f" {'raw json.gz':>12} {'ratio':>8}"
    print(header, flush=True)
    medians = {}
    for name in names:
        run_report(engine, name, params)  # warm: file metadata, GeoIP database
        sections: dict[str, list[float]] = {}
        lake_times = timed(lambda n=name, s=sections: _run_timed(engine, n, params, s), args.repeat)
        medians[name] = statistics.median(lake_times)
        line = f"{name:24} {medians[name]:>10.3f} s {max(lake_times):>7.3f} s"
        if raw is not None:
            raw_times = timed(lambda n=name: run_report(raw, n, params), args.baseline_runs)  # type: ignore[arg-type]
            raw_median = statistics.median(raw_times)
            line += f" {raw_median:>10.1f} s {raw_median / medians[name]:>7.0f}x"
        print(line, flush=True)
        if args.sections:
            for section, times in sections.items():
                print(f"  {section:22} {statistics.median(times):>10.3f} s", flush=True)
    slowest = max(medians, key=medians.__getitem__)
    print(f"slowest report median: {slowest} {medians[slowest]:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
