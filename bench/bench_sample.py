"""Benchmark `trailhouse sample`: events/s and MB/s of log files written, wall clock and CPU.

    .venv/bin/python bench/bench_sample.py --events 2000000 --workers 1
    .venv/bin/python bench/bench_sample.py --events 2000000 --workers 2

Digests are off (they are the integrity module's cost, measured apart). CPU seconds include worker
processes, so events per CPU second is the per-core rate whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from trailhouse.sample import SampleSpec, write_sample


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sample-") as scratch:
        root = args.dir or Path(scratch) / "bucket"
        spec = SampleSpec(
            root=root,
            accounts=args.accounts,
            regions=args.regions,
            days=args.days,
            events=args.events,
            workers=args.workers,
            digests=False,
        )
        cpu, wall = _cpu(), time.perf_counter()
        result = write_sample(spec, force=True)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    mb = 1_000_000
    print(
        f"sample: {result.events:,} events, {result.files:,} files, {result.raw_bytes / mb:,.0f} MB JSON, "
        f"{result.gz_bytes / mb:,.0f} MB gzipped, workers={args.workers}"
    )
    for label, seconds, unit in (("wall", wall, "s"), ("cpu ", cpu, "cpu-s")):
        print(
            f"  {label} {seconds:.1f} s: {result.events / seconds:,.0f} events/{unit}, "
            f"{result.raw_bytes / mb / seconds:,.0f} MB JSON/{unit}"
        )


if __name__ == "__main__":
    main()
