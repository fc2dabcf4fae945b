"""Benchmark: dashboard pages over a large lake, and the API under 50 concurrent report clients.

    .venv/bin/python bench/bench_api.py                          # 10 million events
    TRAILHOUSE_BENCH_EVENTS=1000000 .venv/bin/python bench/bench_api.py   # quicker

The lake is synthesised with Arrow (vectorised, conforming to CLOUDTRAIL_SCHEMA: 20 accounts,
8 regions, 30 days, a login/security-group/IAM/error mix) and kept in
$TRAILHOUSE_BENCH_DIR/api-lake-<events> (default /tmp/trailhouse-bench) for later runs. The server
reads a copy laid out as `trailhouse maintain compact --all` leaves a lake (api-lake-<events>-compacted:
each day's rows ordered by service in small row groups); TRAILHOUSE_BENCH_COMPACT=0 serves the lake
as written instead (one row group per day, nothing to skip).
`trailhouse serve` runs as a subprocess on 127.0.0.1; every request goes over HTTP with a token.

1. Dashboard pages at their default view (the lake's last week): every page once to warm up (so
   the server's start-up warmer, which computes the five default views, has finished before any
   timing), then each $TRAILHOUSE_BENCH_RUNS (default 10) times uncached and cached; median and p90.
   Baseline, run between the page requests with the same row limit: the same report directly on
   an unsandboxed Engine (no HTTP, no auth, no audit, no HTML), so the ratio is the price of
   serving it even when the machine's speed drifts (other work on shared cores).
2. Load: 50 client threads, each requesting a random report (of 5, with one of 6 account filters,
   over the lake's last week) from /api/reports/{name} in a loop for $TRAILHOUSE_BENCH_SECONDS
   (default 30) seconds, 120 s client timeout; errors (any non-200 or exception) must be 0.

TRAILHOUSE_BENCH_PARTS=pages or =load runs one part only.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from trailhouse.auth.store import AuthStore
from trailhouse.lake import Lake
from trailhouse.model.schema import CLOUDTRAIL_SCHEMA, USER_IDENTITY
from trailhouse.query.engine import Engine

PAGES = [
    "general-operations",
    "error-overview",
    "console-logins",
    "security-group-changes",
    "account-activity",
]
ACCOUNTS = [f"{100000000000 + i * 7919:012d}" for i in range(20)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]  # fmt: skip
# (eventSource, eventName, weight)
MIX = [
    ("ec2.amazonaws.com", "DescribeInstances", 30), ("s3.amazonaws.com", "GetObject", 20),
    ("sts.amazonaws.com", "AssumeRole", 15), ("kms.amazonaws.com", "Decrypt", 10),
    ("ec2.amazonaws.com", "RunInstances", 4), ("signin.amazonaws.com", "ConsoleLogin", 4),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 2),
    ("ec2.amazonaws.com", "RevokeSecurityGroupIngress", 1),
    ("iam.amazonaws.com", "CreateAccessKey", 1), ("iam.amazonaws.com", "AttachRolePolicy", 1),
    ("lambda.amazonaws.com", "Invoke", 8), ("dynamodb.amazonaws.com", "GetItem", 4),
]  # fmt: skip
DAYS = 30
START = date(2026, 10, 1)


def _pick(rng: random.Random, values: list[str], n: int, weights: list[float] | None = None) -> pa.Array:
    indices = rng.choices(range(len(values)), weights=weights, k=n)
    return pa.array(values).take(pa.array(indices, pa.int32()))


def _identity(rng: random.Random, accounts: pa.Array, n: int) -> pa.StructArray:
    is_root = pa.array([rng.random() < 0.003 for _ in range(n)])
    names = _pick(rng, [f"user{u}" for u in range(50)], n)
    user_arn = pc.binary_join_element_wise("arn:aws:iam::", accounts, ":user/", names, "")
    root_arn = pc.binary_join_element_wise("arn:aws:iam::", accounts, ":root", "")
    children = []
    for field in USER_IDENTITY:
        if field.name == "type":
            children.append(pc.if_else(is_root, "Root", "IAMUser"))
        elif field.name == "arn":
            children.append(pc.if_else(is_root, root_arn, user_arn))
        elif field.name == "accountId":
            children.append(accounts)
        elif field.name == "userName":
            children.append(pc.if_else(is_root, pa.scalar(None, pa.string()), names))
        else:
            children.append(pa.nulls(n, field.type))
    return pa.StructArray.from_arrays(children, fields=list(USER_IDENTITY))


def _day(rng: random.Random, day: date, n: int, offset: int) -> pa.Table:
    kinds = pa.array(rng.choices(range(len(MIX)), weights=[w for _, _, w in MIX], k=n), pa.int32())
    sources = pa.array([s for s, _, _ in MIX]).take(kinds)
    names = pa.array([e for _, e, _ in MIX]).take(kinds)
    accounts = _pick(rng, ACCOUNTS, n)
    regions = _pick(rng, REGIONS, n)
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
    micros = sorted(rng.randrange(86_400_000_000) for _ in range(n))
    times = pa.array([midnight + m for m in micros], pa.timestamp("us", tz="UTC"))
    error_kinds = [None] * 23 + ["AccessDenied", "ThrottlingException"]
    errors = _pick(rng, error_kinds, n)  # type: ignore[arg-type]
    ips = _pick(rng, [f"198.51.100.{i}" for i in range(1, 255)], n)
    is_login = pc.equal(names, "ConsoleLogin")
    login_result = _pick(rng, ['{"ConsoleLogin":"Success"}'] * 9 + ['{"ConsoleLogin":"Failure"}'], n)
    is_sg = pc.match_substring(names, "SecurityGroup")
    sg = '{"groupId":"sg-0123","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}'  # noqa: E501
    null = pa.scalar(None, pa.string())
    columns: dict[str, pa.Array] = {
        "event_date": pa.array([day] * n, pa.date32()),
        "recipientAccountId": accounts,
        "awsRegion": regions,
        "eventTime": times,
        "eventName": names,
        "eventSource": sources,
        "errorCode": errors,
        "eventID": pa.array([f"{offset + i:08x}-0000-4000-8000-{offset + i:012x}" for i in range(n)]),
        "sourceIPAddress": ips,
        "readOnly": pa.array([rng.random() < 0.7 for _ in range(n)]),
        "userIdentity": _identity(rng, accounts, n),
        "eventType": pc.if_else(is_login, "AwsConsoleSignIn", "AwsApiCall"),
        "eventCategory": pa.array(["Management"] * n),
        "managementEvent": pa.array([True] * n),
        "userAgent": pa.array(["aws-cli/2.15"] * n),
        "eventVersion": pa.array(["1.09"] * n),
        "responseElements": pc.if_else(is_login, login_result, null),
        "additionalEventData": pc.if_else(is_login, '{"MFAUsed":"Yes"}', null),
        "requestParameters": pc.if_else(is_sg, sg, null),
        "source_object": pa.array([f"AWSLogs/bench/{day.isoformat()}.json.gz"] * n),
    }
    arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in CLOUDTRAIL_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=CLOUDTRAIL_SCHEMA)
    return table.sort_by(
        [("recipientAccountId", "ascending"), ("awsRegion", "ascending"), ("eventTime", "ascending")]
    )


def build_lake(root: Path, events: int) -> Lake:
    lake = Lake(root)
    if lake.exists("cloudtrail"):
        return lake
    rng = random.Random(7)
    per_day = events // DAYS
    started = time.monotonic()
    batch: list[pa.Table] = []
    for d in range(DAYS):
        n = per_day + (events - per_day * DAYS if d == DAYS - 1 else 0)
        batch.append(_day(rng, START + timedelta(days=d), n, d * per_day))
        if len(batch) == 5 or d == DAYS - 1:
            lake.append("cloudtrail", pa.concat_tables(batch), partition_by=["event_date"])
            batch = []
            print(f"  lake: {d + 1}/{DAYS} days written ({time.monotonic() - started:.0f} s)", flush=True)
    return lake


def compacted_copy(lake: Lake) -> Lake:
    """A copy of `lake` after `maintain compact --all` (made once, kept beside it)."""
    from trailhouse import lifecycle

    root = Path(lake.root + "-compacted")
    copy = Lake(root)
    if not (root / ".compacted").exists():
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(lake.root, root)
        started = time.monotonic()
        lifecycle.compact(copy, everything=True)
        lifecycle.vacuum(copy, retention_hours=0, apply=True)
        (root / ".compacted").touch()
        print(f"  compacted copy: {root} ({time.monotonic() - started:.0f} s)", flush=True)
    return copy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(lake: Lake) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    exe = Path(sys.executable).with_name("trailhouse")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--lake", lake.root],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/login", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("trailhouse serve did not start within 60 s")


def _direct_report_ms(engine: Engine, name: str, since: str, limit: int) -> float:
    from trailhouse.query.reports import ReportParams, parse_time, run_report

    params = ReportParams(since=parse_time(since) if since else None, limit=limit)
    started = time.perf_counter()
    run_report(engine, name, params)
    return (time.perf_counter() - started) * 1000


def bench_pages(lake: Lake, url: str, token: str, runs: int) -> None:
    from trailhouse.api.service import Service

    since = Service(lake).default_since()
    print(f"\nDashboard pages at their default view (since {since}: the lake's last week), median of {runs}")
    print("after one warm-up (the server caches report results per")
    print("scope, parameters and table versions: 'uncached' varies the row limit so each request computes;")
    print(
        "'cached' repeats one request). Baseline: the same report on a bare Engine, no HTTP/auth/audit/HTML,"
    )
    print("run between the page requests.")
    print(f"  {'page':<24} {'uncached':>9} {'p90':>6} {'cached':>7} {'baseline':>9} {'ratio':>6}")
    engine = Engine(lake)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        # Every default view first: a page's request waits only for its own report, while the
        # server's warmer would go on computing the other four beside the first page's timings.
        for page in PAGES:
            client.get(f"/dashboards/{page}").raise_for_status()
            _direct_report_ms(engine, page, since, 100)
        for page in PAGES:
            uncached, cached, base = [], [], []
            for i in range(runs):
                # the three interleaved, so a machine whose speed drifts skews none of them alone
                started = time.perf_counter()
                client.get(f"/dashboards/{page}", params={"limit": str(101 + i)}).raise_for_status()
                uncached.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.get(f"/dashboards/{page}").raise_for_status()
                cached.append((time.perf_counter() - started) * 1000)
                base.append(_direct_report_ms(engine, page, since, 101 + i))
            median, baseline = statistics.median(uncached), statistics.median(base)
            p90 = sorted(uncached)[int(0.9 * (len(uncached) - 1))]
            verdict = "ok" if median < 300 else "SLOW uncached (target < 300 ms)"
            print(
                f"  {page:<24} {median:>7.0f}ms {p90:>4.0f}ms {statistics.median(cached):>5.0f}ms "
                f"{baseline:>7.0f}ms {median / baseline:>6.2f}  {verdict}"
            )
    engine.close()


def bench_load(url: str, token: str, clients: int, seconds: float, since: str) -> None:
    print(f"\nLoad: {clients} concurrent clients running random reports for {seconds:.0f} s")
    print(f"  (5 reports x 6 account filters, since {since}: 30 distinct results, each computed once)")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            while time.monotonic() < stop:
                name = rng.choice(PAGES)
                account = rng.choice([None, *ACCOUNTS[:5]])
                params = {"since": since, **({"account": account} if account else {})}
                started = time.perf_counter()
                try:
                    response = client.get(f"/api/reports/{name}", params=params)
                    ok = response.status_code == 200 and response.json().get("ok") is True
                    problem = "" if ok else f"{name}: HTTP {response.status_code} {response.text[:120]}"
                except Exception as error:  # counted, not raised: the point is to count them
                    problem = f"{name}: {type(error).__name__}: {error}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")

    print(f"  requests {len(latencies)}  errors {len(errors)}  throughput {len(latencies) / wall:.1f} req/s")
    print(f"  latency ms: p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  p99 {pct(0.99):.0f}  max {pct(1.0):.0f}")
    for problem in errors[:5]:
        print(f"  error: {problem}")
    print("  verdict:", "ok (no errors)" if not errors else "FAILED (errors above)")


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return
    events = int(os.environ.get("TRAILHOUSE_BENCH_EVENTS", "10000000"))
    seconds = float(os.environ.get("TRAILHOUSE_BENCH_SECONDS", "30"))
    clients = int(os.environ.get("TRAILHOUSE_BENCH_CLIENTS", "50"))
    runs = int(os.environ.get("TRAILHOUSE_BENCH_RUNS", "10"))
    parts = os.environ.get("TRAILHOUSE_BENCH_PARTS", "pages,load").split(",")
    root = Path(os.environ.get("TRAILHOUSE_BENCH_DIR", "/tmp/trailhouse-bench")) / f"api-lake-{events}"
    print(f"Lake: {root} ({events:,} events)")
    lake = build_lake(root, events)
    if os.environ.get("TRAILHOUSE_BENCH_COMPACT", "1") != "0":
        lake = compacted_copy(lake)
    print(f"Serving: {lake.root}")
    token = AuthStore(lake).create_token("bench").secret if AuthStore(lake).user("bench") else None
    if token is None:
        token = AuthStore(lake).add_user("bench", is_admin=True).secret
    proc, url = _serve(lake)
    try:
        if "pages" in parts:
            bench_pages(lake, url, token, runs)
        from trailhouse.api.service import Service

        if "load" in parts:
            bench_load(url, token, clients, seconds, Service(lake).default_since())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # queries still running in its threads
            proc.kill()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
