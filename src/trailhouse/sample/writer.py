"""Write a whole sample bucket to a folder: log files (in parallel when asked), Insights, an AWS Config
snapshot, organisation/account-trail overlap copies, and signed digests."""

from __future__ import annotations

import multiprocessing
import random
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
from isal import igzip

from trailhouse.errors import TrailhouseError, UsageError
from trailhouse.sample.insights import InsightFile, burst_insight_files, insight_files
from trailhouse.sample.layout import REGIONS, config_key, file_suffix
from trailhouse.sample.plan import FilePlan, Plan, SampleSpec, plan_sample
from trailhouse.sample.render import encode_file, render
from trailhouse.sample.scene import make_scene, uuid4

BATCH_RECORDS = 50_000  # records per task handed to a worker process
Progress = Callable[[int], None]  # called with the number of records just written


@dataclass(frozen=True)
class SampleResult:
    """What a sample run wrote."""

    root: Path
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    org: str  # "" without an organisation trail
    files: int  # CloudTrail log files (overlap copies included)
    events: int  # records in them (overlap copies excluded)
    raw_bytes: int  # uncompressed JSON of the log files (overlap copies excluded)
    gz_bytes: int
    overlap_files: int  # account-trail copies of organisation-trail files
    overlap_events: int
    insight_files: int
    config_files: int
    digests: int
    seconds: float  # the whole run
    log_seconds: float  # writing the log files alone


@dataclass(frozen=True)
class _Job:
    root: str
    seed: int
    accounts: tuple[str, ...]
    start: date
    days: int
    overlap_account: str  # "" when no overlap copies are wanted
    files: tuple[FilePlan, ...]


@dataclass(frozen=True)
class _JobResult:
    files: int
    records: int
    raw_bytes: int
    gz_bytes: int
    overlap_files: int
    overlap_records: int


def overlap_key(key: str, account: str) -> str:
    """The account-trail key of an organisation-trail file: the same delivery under AWSLogs/<account>/."""
    _, _, rest = key.partition(f"/{account}/")
    name, _, _suffix = rest.rpartition("_")
    rng = random.Random(f"overlap/{key}")
    return f"AWSLogs/{account}/{name}_{file_suffix(rng)}.json.gz"


def _run(job: _Job) -> _JobResult:
    root = Path(job.root)
    records = raw = gz = copies = copied = 0
    made: set[Path] = set()
    for plan in job.files:
        rendered = render(plan, job.seed, job.accounts, job.start, job.days)
        targets = [plan.key]
        if job.overlap_account and job.accounts[plan.account_index] == job.overlap_account:
            targets.append(overlap_key(plan.key, job.overlap_account))
            copies += 1
            copied += rendered.records
        for key in targets:
            path = root / key
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(rendered.data)
        records += rendered.records
        raw += rendered.raw_bytes
        gz += len(rendered.data)
    return _JobResult(len(job.files), records, raw, gz, copies, copied)


def _jobs(plan: Plan, overlap_account: str) -> Iterator[_Job]:
    spec = plan.spec
    batch: list[FilePlan] = []
    size = 0
    for item in plan.files:
        batch.append(item)
        size += item.count
        if size >= BATCH_RECORDS:
            yield _Job(
                str(spec.root), spec.seed, plan.accounts, spec.start, spec.days, overlap_account, tuple(batch)
            )
            batch, size = [], 0
    if batch:
        yield _Job(
            str(spec.root), spec.seed, plan.accounts, spec.start, spec.days, overlap_account, tuple(batch)
        )


def _results(jobs: Iterator[_Job], workers: int) -> Iterator[_JobResult]:
    if workers <= 1:
        yield from map(_run, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(_run, jobs)


SAMPLE_ENTRIES = ("AWSLogs", "public-keys.json")  # all a sample writes at the top of its folder


def prepare_root(root: Path, *, force: bool) -> None:
    """Refuse a non-empty folder; with `force`, remove a previous sample's entries (and nothing else)."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"'{root}' is a file, not a folder\nPass a folder path for the sample.")
    if root.is_dir() and any(root.iterdir()):
        if not force:
            raise TrailhouseError(
                f"Folder '{root}' is not empty\n"
                "Pass --force to replace the sample in it (removes AWSLogs/ and public-keys.json), "
                "or choose a new folder."
            )
        for name in SAMPLE_ENTRIES:
            entry = root / name
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.exists():
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)


def _write_insights(plan: Plan) -> int:
    spec = plan.spec
    count = 0
    for index in range(len(plan.accounts)):
        for region in REGIONS[: spec.regions]:
            scene = make_scene(spec.seed, plan.accounts, index, region)
            for offset in range(spec.days):
                for item in insight_files(scene, spec.seed, spec.start + timedelta(days=offset), plan.org):
                    _write_insight(spec.root, item)
                    count += 1
    for log in plan.files:
        if log.has_burst:
            scene = make_scene(spec.seed, plan.accounts, log.account_index, log.region)
            for insight in burst_insight_files(scene, log, plan.org):
                _write_insight(spec.root, insight)
                count += 1
    return count


def _write_insight(root: Path, item: InsightFile) -> None:
    data, _ = encode_file(list(item.records))
    path = root / item.key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_config(plan: Plan) -> int:
    """One AWS Config snapshot, as a real bucket shared with Config has; ingest must skip it."""
    spec = plan.spec
    account, region = plan.accounts[0], REGIONS[0]
    rng = random.Random(f"{spec.seed}/config")
    delivered = datetime.combine(spec.start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    snapshot = uuid4(rng)
    scene = make_scene(spec.seed, plan.accounts, 0, region)
    items = [
        {
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": delivered.isoformat(),
            "configurationStateId": 1_700_000_000_000 + index,
            "awsAccountId": account,
            "configurationItemStatus": "OK",
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": group,
            "awsRegion": region,
            "configuration": {"groupId": group, "vpcId": scene.vpc},
        }
        for index, group in enumerate(scene.security_groups)
    ]
    body = msgspec.json.encode(
        {"fileVersion": "1.0", "configSnapshotId": snapshot, "configurationItems": items}
    )
    path = spec.root / config_key(account, region, delivered, snapshot)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(igzip.compress(body, compresslevel=1, mtime=0))
    return 1


def write_sample(spec: SampleSpec, *, force: bool = False, progress: Progress | None = None) -> SampleResult:
    """Write the sample described by `spec` under `spec.root` and say what was written."""
    began = time.perf_counter()
    plan = plan_sample(spec)
    prepare_root(spec.root, force=force)
    overlap_account = plan.accounts[0] if spec.overlap and plan.org else ""
    totals = [0] * 6
    for result in _results(_jobs(plan, overlap_account), spec.workers):
        for index, value in enumerate(
            (
                result.files,
                result.records,
                result.raw_bytes,
                result.gz_bytes,
                result.overlap_files,
                result.overlap_records,
            )
        ):
            totals[index] += value
        if progress is not None:
            progress(result.records)
    files, records, raw, gz, copies, copied = totals
    log_seconds = time.perf_counter() - began
    insights = _write_insights(plan)
    configs = _write_config(plan)
    digests = 0
    if spec.digests:
        from trailhouse.integrity.signer import write_digests

        digests = write_digests(spec.root, bucket=spec.bucket)
    return SampleResult(
        root=spec.root,
        accounts=plan.accounts,
        regions=plan.regions(),
        org=plan.org,
        files=files + copies,
        events=records,
        raw_bytes=raw,
        gz_bytes=gz,
        overlap_files=copies,
        overlap_events=copied,
        insight_files=insights,
        config_files=configs,
        digests=digests,
        seconds=time.perf_counter() - began,
        log_seconds=log_seconds,
    )


def log_files(root: Path) -> Sequence[Path]:
    """The CloudTrail log files under a sample folder, in key order."""
    return sorted(path for path in root.rglob("*.json.gz") if "/CloudTrail/" in path.as_posix())
