"""Ingest throughput and peak memory on a generated bucket of >= 1 GB of JSON, beside DuckDB.

Baseline, same files, same run: DuckDB `read_json` (records, unnest of Records) writing Parquet,
in its lossless form (each record kept as JSON) and, for reference, as typed structs.
Prints MB/s of uncompressed JSON and events/s, per core and for the machine, peak RSS and PSS of
the whole process tree, and the ratio to the baseline. Also runs the documented low-memory setting.
Timed runs sample RSS only: reading PSS costs the run ~10% of the machine, so it comes from one
more, untimed run.

    .venv/bin/python bench/bench_ingest.py [--events N] [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil

from duckdb_types import RECORD

OUT = Path(__file__).parent / "out"
TRAILHOUSE = str(Path(sys.executable).parent / "trailhouse")
BIG_FILE_MB = 60


def _tree_memory(process: psutil.Process, with_pss: bool) -> tuple[int, int]:
    """(RSS, PSS) summed over the process tree. RSS counts the shared libraries (pyarrow alone is
    ~60 MiB) once per process; PSS shares them out, so its sum is the memory actually in use.
    PSS (0 unless asked) walks each process's page tables: ~5 ms a process, so sampled every
    50 ms it takes ~10% of a 2-core machine from the run it measures. RSS costs next to nothing."""
    rss = pss = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            if with_pss:
                info = proc.memory_full_info()
                rss += info.rss
                pss += info.pss
            else:
                rss += proc.memory_info().rss
    return rss, pss


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    command: list[str], env: dict[str, str] | None = None, *, with_pss: bool = False
) -> tuple[float, int, int, str]:
    """(seconds, peak RSS and peak PSS of the process tree in bytes, stdout) of a command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    watched = psutil.Process(process.pid)
    peak_rss = peak_pss = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak_rss, peak_pss
        while not done.is_set():
            with contextlib.suppress(psutil.Error):
                rss, pss = _tree_memory(watched, with_pss)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = process.communicate()
    done.set()
    watcher.join()
    if process.returncode:
        raise SystemExit(f"command failed ({process.returncode}): {' '.join(command)}")
    return time.perf_counter() - started, peak_rss, peak_pss, out


def make_bucket(events: int) -> Path:
    bucket = OUT / f"ingest-bucket-{events}"
    if (bucket / ".complete").exists():
        return bucket
    shutil.rmtree(bucket, ignore_errors=True)
    subprocess.run(
        [
            TRAILHOUSE,
            "sample",
            str(bucket),
            "--events",
            str(events),
            "--accounts",
            "6",
            "--regions",
            "3",
            "--days",
            "3",
            "--no-digests",
            "--workers",
            "2",
            "--quiet",
        ],
        check=True,
    )
    _add_big_file(bucket)
    (bucket / ".complete").write_text("")
    return bucket


def _add_big_file(bucket: Path) -> None:
    """One ~60 MB delivery (a busy account's 5 minutes): the memory target names it."""
    files = sorted(bucket.rglob("*_CloudTrail_*.json.gz"))
    records: list[dict[str, object]] = []
    size = 0
    for path in files:
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            record = {**record, "eventID": f"big-{len(records)}"}
            records.append(record)
            size += len(json.dumps(record))
        if size >= BIG_FILE_MB * 1024 * 1024:
            break
    account = files[0].name.split("_")[0]
    folder = files[0].parent
    name = f"{account}_CloudTrail_us-east-1_20261101T2355Z_BIGBIGBIGBIGBIG1.json.gz"
    (folder / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), compresslevel=1))


def json_bytes_and_events(bucket: Path) -> tuple[int, int]:
    total = events = 0
    for path in bucket.rglob("*_CloudTrail_*.json.gz"):
        text = gzip.decompress(path.read_bytes())
        total += len(text)
        events += text.count(b'"eventID"')
    return total, events


def duckdb_baseline(bucket: Path, target: Path) -> float:
    """DuckDB's lossless form: each file's Records as JSON[], unnested, written as Parquet.

    (Letting DuckDB infer a schema fails on real mixes of events, "JSON transform error", and
    union_by_name over thousands of files is slower still; this form runs and keeps everything.)
    """
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    files = sorted(str(p) for p in bucket.rglob("*_CloudTrail_*.json.gz"))
    listed = "[" + ",".join(f"'{f}'" for f in files) + "]"
    started = time.perf_counter()
    connection = duckdb.connect(config={"threads": os.cpu_count() or 2})
    connection.execute(
        f"""COPY (
              SELECT unnest(Records) AS record FROM read_json({listed}, columns = {{'Records': 'JSON[]'}},
                  format = 'unstructured', maximum_object_size = 268435456)
            ) TO '{target}/events.parquet' (FORMAT parquet, COMPRESSION zstd)"""
    )
    return time.perf_counter() - started


def duckdb_typed(bucket: Path, target: Path) -> float:
    """What a DuckDB user would write: Records read as typed structs, unnested into columns.
    Not lossless (unknown fields dropped; a value of another type fails the whole read)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    listed = "[" + ",".join(f"'{p}'" for p in sorted(bucket.rglob("*_CloudTrail_*.json.gz"))) + "]"
    started = time.perf_counter()
    connection = duckdb.connect(config={"threads": os.cpu_count() or 2})
    connection.execute(
        f"""COPY (
              SELECT unnest(r.Records, recursive := true)
              FROM read_json({listed}, columns = {{'Records': '{RECORD}[]'}},
                  format = 'unstructured', maximum_object_size = 268435456) r
            ) TO '{target}/events.parquet' (FORMAT parquet, COMPRESSION zstd)"""
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=720_000, help="events in the bucket (~1.5 KB each)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each (medians)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    bucket = make_bucket(args.events)
    size, events = json_bytes_and_events(bucket)
    cores = os.cpu_count() or 1
    mib = size / 1024 / 1024
    print(
        f"bucket: {mib:.0f} MiB of JSON, {events:,} events, a {BIG_FILE_MB} MB file among them, {cores} cores"
    )

    # Trailhouse and the baseline alternate, --runs times each: the machine's speed drifts, and a
    # ratio of medians over interleaved runs is what survives the drift.
    lake = OUT / "ingest-lake"
    runs: list[tuple[float, int, int, float]] = []  # (seconds, rss, pss, cpu) per run
    base_runs: list[tuple[float, float]] = []  # (seconds, cpu)
    for _ in range(args.runs):
        shutil.rmtree(lake, ignore_errors=True)
        cpu_before = cpu_of_children()
        seconds, rss, pss, out = run_measured([TRAILHOUSE, "ingest", str(bucket), "--lake", str(lake)])
        runs.append((seconds, rss, pss, cpu_of_children() - cpu_before))
        base_cpu_before = time.process_time()
        base_seconds = duckdb_baseline(bucket, OUT / "duckdb-parquet")
        base_runs.append((base_seconds, time.process_time() - base_cpu_before))
    print(out.strip())
    seconds, cpu = (statistics.median(run[i] for run in runs) for i in (0, 3))
    shutil.rmtree(lake, ignore_errors=True)  # one more run, untimed, to read PSS as well
    _, memory_rss, pss, _ = run_measured(
        [TRAILHOUSE, "ingest", str(bucket), "--lake", str(lake)], with_pss=True
    )
    rss = max(memory_rss, *(run[1] for run in runs))
    base_seconds, base_cpu = (statistics.median(run[i] for run in base_runs) for i in (0, 1))
    typed_seconds = duckdb_typed(bucket, OUT / "duckdb-typed")

    shutil.rmtree(lake, ignore_errors=True)
    env = {**os.environ, "TRAILHOUSE_WORKERS": "1", "TRAILHOUSE_BATCH_MB": "32"}
    low_seconds, low_rss, low_pss, _ = run_measured(
        [TRAILHOUSE, "ingest", str(bucket), "--lake", str(lake), "-q"], env, with_pss=True
    )
    shutil.rmtree(lake, ignore_errors=True)

    rate = mib / seconds
    print(
        f"medians of {args.runs} interleaved runs (sampling RSS only); peak RSS: the highest of them "
        "and of one more run that samples PSS too"
    )
    print(
        f"trailhouse ingest : {seconds:6.1f} s  {rate:6.1f} MiB/s = {size / seconds / 1e6:.0f} MB/s "
        f"({rate / cores:.1f} MiB/s/core)  "
        f"{events / seconds:,.0f} events/s ({events / seconds / cores:,.0f}/core)  "
        f"peak RSS {rss / 2**20:.0f} MiB (PSS {pss / 2**20:.0f} MiB)"
    )
    print(
        f"duckdb baseline   : {base_seconds:6.1f} s  {mib / base_seconds:6.1f} MiB/s"
        "  (read_json Records as JSON[] + unnest -> Parquet)"
    )
    target = "target >= 1.5x; >= 100 MB/s = 95.4 MiB/s"
    print(f"ratio             : {base_seconds / seconds:.2f}x the baseline ({target})")
    print(
        f"duckdb typed      : {typed_seconds:6.1f} s  {mib / typed_seconds:6.1f} MiB/s"
        f"  (Records as typed structs, not lossless): trailhouse {typed_seconds / seconds:.2f}x"
    )
    print(
        f"CPU (load-proof)  : trailhouse {cpu:.1f} CPU-s ({mib / cpu:.1f} MiB per CPU-s), "
        f"duckdb {base_cpu:.1f} CPU-s ({mib / base_cpu:.1f} MiB per CPU-s): {base_cpu / cpu:.2f}x"
    )
    print(
        f"low-memory setting: workers=1 batch_mb=32: {low_seconds:.1f} s, {mib / low_seconds:.1f} MiB/s, "
        f"peak RSS {low_rss / 2**20:.0f} MiB (PSS {low_pss / 2**20:.0f} MiB; target < 256 MiB)"
    )


if __name__ == "__main__":
    main()
