"""Validate CloudTrail logs against their digests: read the digests, check the chains, hash the log files.

Hashing dominates (every log file is read and inflated), so it runs in a pool of workers with a
bounded number of files in flight: memory stays flat whatever the bucket's size. Workers take
batches of paths and hand back only the hashes, and they start as soon as the digests are read, so
the signatures and chains are checked while files are being hashed. `sequential=True` hashes one
file at a time in the calling thread.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain, islice
from typing import Any, Literal, TypeVar

from trailhouse.errors import IntegrityError, ObjectReadError
from trailhouse.integrity.chain import ChainResult, Gap, LoadedDigest, check_chains
from trailhouse.integrity.hashing import FileHash, gunzip, hash_uris
from trailhouse.integrity.outcomes import Finding, Status, ValidationSummary
from trailhouse.integrity.public_keys import KeyRing
from trailhouse.integrity.stores import Found, Store
from trailhouse.model.digest import parse_digest, parse_digest_key
from trailhouse.model.keys import classify_key, identity

Pool = Literal["thread", "process"]
T = TypeVar("T")
R = TypeVar("R")
_HOUR = dt.timedelta(hours=1)
PROCESS_POOL_FROM = 256  # listed local log files from which spawning worker processes pays off
HASH_BATCH = 16  # local log files per worker task: a round trip costs more than hashing a small file
HASH_AHEAD = 8  # batches in flight per worker: enough work queued to last while the chains are checked


@dataclass(frozen=True)
class Scope:
    """Which digests and log files to validate."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    account: str | None = None
    region: str | None = None

    def has_digest(self, key: str) -> bool:
        name = parse_digest_key(key)
        if name is None:
            return self.start is None and self.end is None and self.account is None and self.region is None
        if self.account and name.account != self.account:
            return False
        if self.region and name.region != self.region:
            return False
        when = dt.datetime.strptime(name.time, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        if self.start and when < self.start:
            return False
        # A digest delivered up to an hour after the end still lists files delivered before it.
        return not (self.end and when > self.end + _HOUR)

    def has_log(self, key: str) -> bool:
        info = classify_key(key)
        if self.account and info.account != self.account:
            return False
        if self.region and info.region != self.region:
            return False
        if (self.start or self.end) and info.delivered:
            when = dt.datetime.strptime(info.delivered[:13], "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
            if (self.start and when < self.start) or (self.end and when > self.end):
                return False
        return True


def _delivered(stamp: str) -> dt.datetime | None:
    """The delivery time in a log file's name (20260729T0915Z), or None."""
    try:
        return dt.datetime.strptime(stamp[:13], "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def default_workers() -> int:
    return max(2, min(32, (os.cpu_count() or 1)))


def submitted(
    fn: Callable[[Any], R],
    items: Iterable[T],
    *,
    workers: int,
    pool: Pool = "thread",
    arg: Callable[[T], Any] | None = None,
    ahead: int = 4,
) -> Iterator[tuple[T, Future[R]]]:
    """(item, future of fn(arg(item))) for each item in order, by `workers` workers.

    The first pair comes as soon as `workers * ahead` items are submitted, without waiting for any.
    Take each future's result before asking for the next pair: that bounds the items in flight.
    With processes (spawn), `fn` and `arg(item)` must pickle; `fn` should live in a light module.
    """
    executor: Executor
    if pool == "process":
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        executor = ThreadPoolExecutor(workers)
    limit = workers * ahead
    with executor:
        pending: deque[tuple[T, Future[R]]] = deque()
        for item in items:
            pending.append((item, executor.submit(fn, arg(item) if arg else item)))
            if len(pending) >= limit:
                yield pending.popleft()
        yield from pending


def bounded_map(
    fn: Callable[[Any], R],
    items: Iterable[T],
    *,
    workers: int,
    pool: Pool = "thread",
    arg: Callable[[T], Any] | None = None,
) -> Iterator[tuple[T, R]]:
    """(item, fn(arg(item))) for each item, by `workers` workers with at most 4 per worker in flight."""
    for item, future in submitted(fn, items, workers=workers, pool=pool, arg=arg):
        yield item, future.result()


def _finished(value: R) -> Future[R]:
    future: Future[R] = Future()
    future.set_result(value)
    return future


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _uris(batch: list[_LogTask]) -> list[str]:
    return [task.uri for task in batch]


def load_digest(store: Store, found: Found) -> LoadedDigest:
    """Read, gunzip and parse one digest; the failure is kept, not raised."""
    stored = store.read_digest(found)
    if stored.data is None:
        return LoadedDigest(found, None, None)
    try:
        raw = gunzip(stored.data)
    except (zlib.error, OSError, ValueError) as error:
        return LoadedDigest(found, stored.data, None, error=f"not gzip ({error})")
    try:
        digest = parse_digest(raw, identity(found.key))
    except ObjectReadError as error:
        return LoadedDigest(found, raw, None, error=str(error).splitlines()[0])
    return LoadedDigest(found, raw, digest, stored.signature, stored.signature_source)


@dataclass(frozen=True)
class _LogTask:
    uri: str
    key: str  # s3Object as listed
    expected: str
    digest: str  # identity of the listing digest
    claim: str  # the listing digest's digestS3Object: its outcome is known once the chains are checked


def _log_finding(task: _LogTask, result: FileHash | None, digest_status: Status) -> Finding:
    source = identity(task.key)
    if result is None:
        listed = f"listed in {task.digest}"
        return Finding("log", "missing", task.uri, source, listed, "not found", task.digest)
    if result.sha256 != task.expected:
        detail = f"SHA-256 of the uncompressed file is {result.sha256}; the digest recorded {task.expected}"
        return Finding("log", "invalid", task.uri, source, detail, "hash value doesn't match", task.digest)
    moved = "" if task.uri.endswith(task.key) else f"found at {task.uri}, listed as {task.key}"
    if digest_status == "valid":
        return Finding("log", "valid", task.uri, source, moved, "moved" if moved else "", task.digest)
    why = "its digest is unverifiable" if digest_status == "unverified" else "its digest is not valid"
    detail = f"hash matches {task.digest}, but {why}" + (f"; {moved}" if moved else "")
    return Finding("log", "unverified", task.uri, source, detail, "digest not verified", task.digest)


def _log_tasks(
    store: Store, loaded: list[LoadedDigest], emit: Callable[[Finding], None], skip: set[str]
) -> Iterator[_LogTask]:
    """One task per listed log file to hash; files that are not there become findings at once."""
    seen: set[str] = set()
    for item in loaded:
        if item.digest is None:
            continue
        for entry in item.digest.get("logFiles", []):
            key = str(entry.get("s3Object", ""))
            source = identity(key)
            if source in seen or source in skip:
                continue
            seen.add(source)
            uri = store.locate_log(str(entry.get("s3Bucket", "")), key)
            digest = identity(item.claim)
            if uri is None:
                where = f"s3://{entry.get('s3Bucket')}/{key}"
                listed = f"listed in {digest}"
                emit(Finding("log", "missing", where, source, listed, "not found", digest))
                continue
            yield _LogTask(uri, key, str(entry.get("hashValue", "")), digest, item.claim)


def _hash_logs(
    tasks: Iterable[_LogTask], *, workers: int, pool: Pool, sequential: bool, batch: int
) -> Iterator[tuple[list[_LogTask], Future[list[FileHash | None]]]]:
    """Batches of tasks with their files' hashes to come (workers get paths, hand back only hashes)."""
    batches = _batched(tasks, batch)
    if sequential:  # in the calling thread, one file at a time
        return ((group, _finished(hash_uris(_uris(group)))) for group in batches)
    return submitted(hash_uris, batches, workers=workers, pool=pool, arg=_uris, ahead=HASH_AHEAD)


def _default_pool(store: Store, loaded: list[LoadedDigest]) -> Pool:
    """Processes for many local files, threads for S3 (the waits overlap) or a few files."""
    count = sum(len(item.digest.get("logFiles", [])) for item in loaded if item.digest)
    return "process" if not store.remote and count >= PROCESS_POOL_FROM else "thread"


def _unlisted(
    store: Store, scope: Scope, loaded: list[LoadedDigest], skip: set[str], gaps: tuple[Gap, ...]
) -> list[Finding]:
    """Log files the store holds that no digest lists (nor `skip`, the ones known valid)."""
    listed = set(skip)
    newest: dict[tuple[str, str], str] = {}
    for item in loaded:
        if item.digest is not None:
            entries = item.digest.get("logFiles", [])
            listed.update(identity(str(entry.get("s3Object", ""))) for entry in entries)
        name = item.name
        if name is not None:
            slot = (name.account, name.region)
            newest[slot] = max(newest.get(slot, ""), name.time)
    found = []
    for log in store.logs():
        source = identity(log.key)
        if source in listed or not scope.has_log(log.key):
            continue
        info = classify_key(log.key)
        latest = newest.get((info.account, info.region), "")
        when = _delivered(info.delivered)
        in_gap = when is not None and any(
            gap.account == info.account and gap.region == info.region and gap.after <= when < gap.before
            for gap in gaps
        )
        if in_gap:
            detail = "delivered when digests are missing (gap in the chain); its digest was likely deleted"
        elif latest and info.delivered and info.delivered[:13] >= latest[:13]:
            detail = "delivered after the newest digest; CloudTrail lists it in the next one"
        else:
            detail = "no digest lists it: added after delivery, or delivered while validation was off"
        found.append(Finding("log", "unverified", log.uri, source, detail, "listed in no digest"))
    return found


def validate(
    store: Store,
    keys: KeyRing | Callable[[list[LoadedDigest]], KeyRing],
    *,
    scope: Scope | None = None,
    workers: int | None = None,
    pool: Pool | None = None,
    sequential: bool = False,
    skip_logs: set[str] | None = None,
    sink: Callable[[Finding], None] | None = None,
    keep_valid_logs: bool = True,
) -> ValidationSummary:
    """Validate the digests and log files a store holds, within a scope.

    `keys` may be a function of the digests read (to fetch only the public keys they name).
    `skip_logs`: identities of log files already known valid (not hashed again).
    `sink` sees every finding as it is made; with `keep_valid_logs=False` the summary counts valid
    log files without keeping them, so memory does not grow with the bucket.
    `pool`: threads or spawned processes; by default processes for many local files, threads for S3
    or a few files. Inflating and SHA-256 release the GIL, so threads do as well on idle cores, but
    when other work takes a core they queue for the GIL at every piece and fall behind.
    """
    scope = scope or Scope()
    workers = 1 if sequential else (workers or default_workers())
    found = [item for item in store.digests() if scope.has_digest(item.key)]
    read = partial(load_digest, store)
    if store.remote:  # threads overlap the requests
        loaded = [digest for _item, digest in bounded_map(read, found, workers=workers)]
    else:  # a few KB each: threads would only pass the GIL back and forth
        loaded = [read(item) for item in found]
    ring = keys(loaded) if callable(keys) else keys
    findings: list[Finding] = []
    omitted = 0

    def emit(finding: Finding) -> None:
        nonlocal omitted
        if sink is not None:
            sink(finding)
        if keep_valid_logs or finding.status != "valid" or finding.problem:
            findings.append(finding)
        else:
            omitted += 1

    tasks = _log_tasks(store, loaded, emit, skip_logs or set())
    pool = pool or _default_pool(store, loaded)
    batch = 1 if store.remote else HASH_BATCH
    hashed = _hash_logs(tasks, workers=workers, pool=pool, sequential=sequential, batch=batch)
    # Taking the first batch sets the workers going; the chains are checked while they hash.
    first = list(islice(hashed, 1))
    chains = check_chains(loaded, ring, store, range_start=scope.start)
    findings.extend(chains.findings)
    if sink is not None:
        for finding in chains.findings:
            sink(finding)
    for group, future in chain(first, hashed):
        for task, result in zip(group, future.result(), strict=True):
            emit(_log_finding(task, result, chains.status_by_claim.get(task.claim, "unverified")))
    for finding in _unlisted(store, scope, loaded, skip_logs or set(), chains.gaps):
        emit(finding)
    return replace(_summary(store, scope, loaded, chains, findings), omitted_valid_logs=omitted)


def _summary(
    store: Store, scope: Scope, loaded: list[LoadedDigest], chains: ChainResult, findings: list[Finding]
) -> ValidationSummary:
    good = [item for item in loaded if chains.status_by_claim.get(item.claim) == "valid"]
    starts = [item.start for item in good if item.start]
    ends = [item.end for item in good if item.end]
    notes = list(chains.notes)
    if len(chains.fingerprints) > 1:
        count = len(chains.fingerprints)
        notes.append(f"Key rotation: digests were signed by {count} public keys, each checked")
    backfill = sum(1 for item in loaded if item.name and item.name.is_backfill)
    if backfill:
        notes.append(f"{backfill} backfill digest(s) checked on their own (outside the hourly chain)")
    findings.sort(key=lambda finding: (finding.kind != "digest", finding.location))
    return ValidationSummary(
        source=store.name,
        findings=tuple(findings),
        start=scope.start,
        end=scope.end,
        found_start=min(starts) if starts else None,
        found_end=max(ends) if ends else None,
        signature_sources=chains.signature_sources,
        fingerprints=chains.fingerprints,
        notes=tuple(notes),
    )


def needed_fingerprints(loaded: list[LoadedDigest]) -> set[str]:
    return {str(item.digest.get("digestPublicKeyFingerprint")) for item in loaded if item.digest}


def digest_regions(loaded: list[LoadedDigest]) -> set[str]:
    return {name.home_region for item in loaded if (name := item.name) is not None}


def require_keys(ring: KeyRing, loaded: list[LoadedDigest], origin: str) -> KeyRing:
    """Stop early, with the next step, when there is nothing to check signatures with."""
    if len(ring) == 0 and any(item.digest for item in loaded):
        raise IntegrityError(
            f"No public keys to check the digests' signatures with (looked in: {origin})\n"
            "Pass --public-keys FILE (the output of 'aws cloudtrail list-public-keys', or the "
            "public-keys.json of a sample bucket), or run once online so the keys are cached in the lake."
        )
    return ring
