"""Benchmark: digest validation of a generated bucket of at least 1 GiB, parallel versus one file at a time.

The baseline does what `aws cloudtrail validate-logs` does, on local files: walk the digests newest
first, check each signature, then for each listed log file read it in 2048-byte pieces through zlib
and SHA-256, one file at a time. Trailhouse then validates the same files in the same run:
sequentially (its own code, one worker) and in parallel (threads, then spawned processes).
The page cache is warmed first, so every contender reads from memory.

    .venv/bin/python bench/bench_validate.py            # 1 GiB of gzipped log files
    TRAILHOUSE_BENCH_GB=0.1 .venv/bin/python bench/bench_validate.py   # quicker

The bucket is generated once (by `trailhouse sample`, else by a small writer here) and kept in
$TRAILHOUSE_BENCH_DIR (default /tmp/trailhouse-bench) for later runs. Peak memory is this
process's resident high-water mark during each contender (reset before each, so it starts from
what the imports and the warm-up left); the process pool's workers are not in it.

Spawned worker processes re-import this module, so it imports Trailhouse only inside functions.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import random
import resource
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailhouse.integrity.public_keys import KeyRing

GIB = 1 << 30
GZ_BYTES_PER_EVENT = 268  # measured on `trailhouse sample` output; only used to size the sample


def _log_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix()]


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def _own_writer(root: Path, target: int) -> None:
    """A plain writer (used when the sample generator is not installed): random-ish events, hourly files."""
    from trailhouse.integrity.signer import write_digests

    rng = random.Random(7)
    written, hour = 0, 0
    while written < target:
        for region in ("us-east-1", "eu-west-1"):
            stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(1_785_000_000 + hour * 3600))
            day = time.strftime("%Y/%m/%d", time.gmtime(1_785_000_000 + hour * 3600))
            records = [
                {
                    "eventVersion": "1.09",
                    "eventTime": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{i % 60:02d}:00Z",
                    "eventName": rng.choice(["GetObject", "PutObject", "AssumeRole", "Decrypt"]),
                    "eventID": f"{rng.getrandbits(128):032x}",
                    "requestID": f"{rng.getrandbits(64):016x}",
                    "sourceIPAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                }
                for i in range(20_000)
            ]
            name = f"123456789012_CloudTrail_{region}_{stamp}_bench.json.gz"
            key = f"AWSLogs/123456789012/CloudTrail/{region}/{day}/{name}"
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            data = gzip.compress(json.dumps({"Records": records}).encode(), 6, mtime=0)
            path.write_bytes(data)
            written += len(data)
        hour += 1
    write_digests(root, bucket="bench-bucket")


def generate(root: Path, target: int, report: Callable[[str], None]) -> None:
    marker = root / ".complete"
    if marker.exists() and _size(_log_files(root)) >= target:
        report(f"Reusing the bucket at {root}")
        return
    started = time.perf_counter()
    try:
        from trailhouse.sample import SampleSpec, write_sample
    except ImportError:
        write_sample = None
    events = int(target / GZ_BYTES_PER_EVENT * 1.15)
    if write_sample is not None:
        report(f"Generating a bucket with `trailhouse sample` ({events:,} events) at {root} ...")
        spec = SampleSpec(root=root, events=events, days=4, workers=os.cpu_count() or 1)
        write_sample(spec, force=True)
    else:
        report(f"Generating a bucket with the bench's own writer at {root} ...")
        _own_writer(root, target)
    if _size(_log_files(root)) < target:
        raise SystemExit(f"The bucket is smaller than {target / GIB:.2f} GiB; lower GZ_BYTES_PER_EVENT")
    marker.write_text("ok\n")
    report(f"  generated in {time.perf_counter() - started:.0f} s")


def aws_cli_style(root: Path, ring: KeyRing) -> tuple[int, int, int]:
    """One file at a time, as `aws cloudtrail validate-logs` does: (valid digests, valid logs, invalid)."""
    from trailhouse.integrity.public_keys import verify_signature
    from trailhouse.model.digest import string_to_sign

    digests = sorted(
        (p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" in p.as_posix()), reverse=True
    )
    valid_digests = valid_logs = invalid = 0
    for path in digests:
        inflated = zlib.decompress(path.read_bytes(), zlib.MAX_WBITS | 16)
        digest = json.loads(inflated.decode())
        key = ring.find(digest["digestPublicKeyFingerprint"])
        signature = Path(f"{path}.sig").read_text().strip()
        if key is None or not verify_signature(key.der, string_to_sign(digest, inflated), signature):
            invalid += 1
            continue
        valid_digests += 1
        for log in digest["logFiles"]:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            rolling = hashlib.sha256()
            with open(root / log["s3Object"], "rb") as stream:
                for chunk in iter(lambda s=stream: s.read(2048), b""):  # type: ignore[misc]
                    rolling.update(inflater.decompress(chunk))
            rolling.update(inflater.flush())
            if rolling.hexdigest() == log["hashValue"]:
                valid_logs += 1
            else:
                invalid += 1
    return valid_digests, valid_logs, invalid


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # process-pool workers, once reaped
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _reset_peak() -> None:
    """Start this process's resident high-water mark afresh (Linux; elsewhere it keeps counting)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    """This process's resident high-water mark since the last reset, else since it started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], Any], cpu: dict[str, float], label: str) -> tuple[float, Any, float]:
    """(wall seconds, result, peak MiB); CPU seconds into `cpu[label]`."""
    _reset_peak()
    started, cpu_started = time.perf_counter(), _cpu()
    result = fn()
    cpu[label] = _cpu() - cpu_started
    return time.perf_counter() - started, result, _peak_mib()


def run(report: Callable[[str], None] = print) -> dict[str, float]:
    from trailhouse.integrity.public_keys import KeyRing, load_public_keys
    from trailhouse.integrity.signer import PUBLIC_KEYS_FILE
    from trailhouse.integrity.stores import FolderStore
    from trailhouse.integrity.validator import validate

    target = int(float(os.environ.get("TRAILHOUSE_BENCH_GB", "1")) * GIB)
    root = Path(os.environ.get("TRAILHOUSE_BENCH_DIR", "/tmp/trailhouse-bench")) / f"validate-{target}"
    generate(root, target, report)
    logs = _log_files(root)
    gz = _size(logs)
    for path in root.rglob("*"):  # warm the page cache: every contender reads from memory
        if path.is_file():
            path.read_bytes()
    ring = KeyRing(load_public_keys(root / PUBLIC_KEYS_FILE))
    report(f"Bucket: {len(logs):,} log files, {gz / GIB:.2f} GiB gzipped; {os.cpu_count()} CPUs")

    rounds = int(os.environ.get("TRAILHOUSE_BENCH_ROUNDS", "2"))
    baseline_label = "aws-cli style (sequential)"
    contenders: list[tuple[str, Callable[[], Any]]] = [
        (baseline_label, lambda: aws_cli_style(root, ring)),
        ("trailhouse, 1 worker", lambda: validate(FolderStore(root), ring, sequential=True)),
        ("trailhouse, threads", lambda: validate(FolderStore(root), ring, pool="thread")),
        ("trailhouse, processes", lambda: validate(FolderStore(root), ring, pool="process")),
    ]
    # Round robin, best of `rounds`: load from other work on the machine hits every contender alike.
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    peak: dict[str, float] = {}
    digests_ok = logs_ok = 0
    for _round in range(rounds):
        for label, work in contenders:
            used: dict[str, float] = {}
            elapsed, result, high = _timed(work, used, label)
            peak[label] = max(peak.get(label, 0.0), high)
            if label == baseline_label:
                digests_ok, logs_ok, bad = result
                assert bad == 0 and logs_ok == len(logs), (bad, logs_ok, len(logs))
            else:
                assert result.ok and result.count("log", "valid") == len(logs), label
            if elapsed < seconds.get(label, float("inf")):
                seconds[label], cpu[label] = elapsed, used[label]
    baseline = seconds[baseline_label]
    best = min(seconds["trailhouse, threads"], seconds["trailhouse, processes"])
    report(f"{'validator':<28}{'seconds':>9}{'MiB/s gz':>10}{'x baseline':>12}{'CPU s':>8}{'peak MiB':>10}")
    for label, value in seconds.items():
        speed = gz / value / (1 << 20)
        figures = (
            f"{value:>9.2f}{speed:>10.0f}{baseline / value:>12.2f}{cpu[label]:>8.1f}{peak[label]:>10.0f}"
        )
        report(f"{label:<28}{figures}")
    load = os.getloadavg()[0]
    report(f"Best of {rounds} rounds; load average at the end: {load:.1f} on {os.cpu_count()} CPUs")
    report(f"Digests: {digests_ok:,} valid; log files: {logs_ok:,} valid")
    report(f"Parallel Trailhouse vs the sequential baseline: {baseline / best:.1f}x faster (target: 3x)")
    fewest = min(value for label, value in cpu.items() if label != baseline_label)
    report(
        f"CPU time: the baseline {cpu[baseline_label]:.1f} s, Trailhouse {fewest:.1f} s "
        f"({cpu[baseline_label] / fewest:.1f}x less); the wall-clock gain also needs idle cores"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(f"Peak RSS of this process (incl. the warm-up and the baseline): {rss:.0f} MiB")
    return seconds


if __name__ == "__main__":
    figures = run()
    sys.exit(0)
