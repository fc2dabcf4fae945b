"""S3: the AWS clients, parallel downloads with bounded read-ahead, and the bucket listing source.

`S3Source` finds every account, region and organisation under `s3://bucket[/prefix]` by listing
with a delimiter, then lists day folders (`YYYY/MM/DD/`) oldest first. It never trusts a resume
marker alone: each pass re-lists whole day folders, and when following it re-lists a look-back
window of recent days, so a late key (or one that sorts before the newest seen) is still found;
the pipeline's ledger drops what is already in the lake.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from functools import cache
from types import FrameType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import ObjectReadError, SourceError, TransientSourceError
from trailhouse.model.keys import classify_key
from trailhouse.sources.base import OBJECT_GONE, ObjectRef

log = logging.getLogger("trailhouse.sources")

_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)
_CLIENT_LOCK = threading.Lock()
_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}
_TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "InternalError",
    "503",
    "500",
}
_MIB = 1024 * 1024
_FOLDERS = ("CloudTrail/", "CloudTrail-Insight/", "CloudTrail-Digest/")
_ORG = re.compile(r"^o-[a-z0-9]+/$")
_ACCOUNT = re.compile(r"^\d{12}/$")
_STREAM = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?\d{12}/CloudTrail(?:-Insight|-Digest)?/[^/]+/")


def region_from_env() -> str | None:
    """AWS_REGION (which boto3 ignores) or AWS_DEFAULT_REGION; None lets boto3 use the profile."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


@cache
def client(service: str, region: str | None = None) -> Any:
    """A boto3 client from the standard AWS environment (profile, credentials, AWS_ENDPOINT_URL)."""
    with _CLIENT_LOCK:  # creating clients from the default session is not thread-safe
        return boto3.client(service, region_name=region or region_from_env(), config=_CONFIG)


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key') of s3://bucket/key."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def download(bucket: str, key: str, region: str | None = None) -> bytes:
    """An object's bytes; ObjectReadError('object no longer exists') when it is gone."""
    try:
        body = client("s3", region).get_object(Bucket=bucket, Key=key)["Body"]
        data: bytes = body.read()
    except ClientError as error:
        code = error_code(error)
        if code in _MISSING:
            raise ObjectReadError(OBJECT_GONE) from None
        if code in _TRANSIENT:
            raise TransientSourceError(
                f"Could not read 's3://{bucket}/{key}' ({code}); retry later"
            ) from None
        raise ObjectReadError(f"cannot read s3://{bucket}/{key}: {code}: {error}") from None
    except BotoCoreError as error:
        raise TransientSourceError(f"Could not read 's3://{bucket}/{key}' ({error}); retry later") from None
    log.info("Downloaded log file %s from %s", key, bucket)
    return data


class StopOnSigterm:
    """While following: SIGTERM sets `stop` (the source hands on nothing more, the pipeline commits
    what it holds, and the process exits 0); `restore` puts the previous handler back."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        log.info("SIGTERM: finishing the objects in hand, then stopping")
        self.stop.set()

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
            self.previous = None


class Downloads:
    """Downloads ahead of the pipeline in a thread pool, bounded by bytes held (not yet read).

    Read-ahead follows demand: when a ref is passed over without being read (the ledger already
    holds it), read-ahead pauses until the next read, so re-listing a done bucket downloads nothing.
    """

    def __init__(self, fetch: Callable[[ObjectRef], bytes], *, workers: int = 8, budget_mb: int = 64) -> None:
        self._fetch = fetch
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="trailhouse-download")
        self._budget = budget_mb * _MIB
        self._held: dict[str, tuple[Future[bytes], int]] = {}
        self._held_bytes = 0
        self._lock = threading.Lock()
        self._last: str | None = None
        self.wanted = True

    @property
    def capacity(self) -> bool:
        with self._lock:
            return self.wanted and self._held_bytes < self._budget

    def prefetch(self, ref: ObjectRef) -> bool:
        """Start downloading `ref` if read-ahead has room; False when it has not."""
        if classify_key(ref.key, ref.size).kind == "skip":
            return True  # never read: nothing to download
        estimate = ref.size if ref.size else _MIB
        with self._lock:
            if not self.wanted or self._held_bytes >= self._budget or ref.uri in self._held:
                return ref.uri in self._held
            self._held[ref.uri] = (self._pool.submit(self._fetch, ref), estimate)
            self._held_bytes += estimate
        return True

    def yielded(self, ref: ObjectRef) -> None:
        """`ref` goes to the pipeline now; the one before it was read or passed over."""
        with self._lock:
            previous, self._last = self._last, ref.uri
            if previous is not None and previous != ref.uri and previous in self._held:
                future, estimate = self._held.pop(previous)
                future.cancel()
                self._held_bytes -= estimate
                self.wanted = False

    def take(self, ref: ObjectRef) -> bytes:
        with self._lock:
            held = self._held.pop(ref.uri, None)
            if held is not None:
                self._held_bytes -= held[1]
            self.wanted = True
        if held is None:
            return self._fetch(ref)
        return held[0].result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class S3Source:
    """Every CloudTrail object under s3://bucket[/prefix]; with `follow`, new ones as they land."""

    def __init__(
        self,
        uri: str,
        *,
        since: date | None = None,
        follow: bool = False,
        lookback_days: int = 2,
        poll_seconds: float = 60.0,
        download_workers: int = 8,
        read_ahead_mb: int = 64,
        region: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.bucket, prefix = split_uri(uri)
        if not self.bucket:
            raise SourceError(f"No bucket in '{uri}'\nPass s3://bucket or s3://bucket/prefix.")
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.name = uri
        self.since = since
        self.follow = follow
        self.lookback_days = lookback_days
        self.poll_seconds = poll_seconds
        self.region = region
        self.stop = stop or threading.Event()
        self._s3 = client("s3", region)
        self._downloads = Downloads(self._read_now, workers=download_workers, budget_mb=read_ahead_mb)
        self._newest: dict[str, date] = {}  # stream prefix -> newest day folder seen
        self._idle = False  # the object just yielded was the last of a listing pass
        self._seen: dict[str, set[str]] = {}  # following: keys handed on, per recent day folder
        self._sigterm = StopOnSigterm(self.stop) if follow else None

    # -- the Source protocol -----------------------------------------------------------------
    def objects(self) -> Iterator[ObjectRef]:
        yield from self._read_ahead(self.listing())
        while self.follow and not self.stop.wait(self.poll_seconds):
            yield from self._read_ahead(self.listing(recent_only=True))

    def read(self, ref: ObjectRef) -> bytes:
        return self._downloads.take(ref)

    def committed(self, refs: Sequence[ObjectRef]) -> None:
        return None

    def wants_flush(self) -> bool:
        """Following: commit at the end of each pass, before waiting for the next one."""
        return self.follow and self._idle

    def close(self) -> None:
        if self._sigterm is not None:
            self._sigterm.restore()
        self._downloads.close()

    # -- listing -------------------------------------------------------------------------------
    def listing(self, *, recent_only: bool = False) -> Iterator[ObjectRef]:
        """One pass: every stream's day folders from `since` on (or the look-back window), by day."""
        streams = self.streams()
        if not streams:
            yield from self._list(self.prefix)  # not CloudTrail's layout: list everything
            return
        days: list[tuple[date, str, str]] = []
        for stream in streams:
            start = self.since
            if recent_only and stream in self._newest:
                start = self._newest[stream] - timedelta(days=self.lookback_days)
            elif recent_only:
                start = max(self.since or date.min, date.today() - timedelta(days=self.lookback_days))
            for day, folder in self._days(stream, start):
                days.append((day, folder, stream))
                self._newest[stream] = max(day, self._newest.get(stream, day))
        days.sort()
        recent = {folder for day, folder, stream in days if self._is_recent(stream, day)}
        for folder in set(self._seen) - recent:
            del self._seen[folder]  # fell out of the look-back window: never listed again
        # Day folders are listed 8 at a time, at most 16 ahead of the consumer (bounded memory).
        with ThreadPoolExecutor(8, thread_name_prefix="trailhouse-list") as pool:
            ahead: deque[tuple[str, Future[list[ObjectRef]]]] = deque()
            folders = iter(folder for _, folder, _ in days)
            while True:
                for folder in folders:
                    ahead.append((folder, pool.submit(lambda f: list(self._list(f)), folder)))
                    if len(ahead) >= 16:
                        break
                if not ahead or self.stop.is_set():
                    for _, future in ahead:
                        future.cancel()
                    return
                folder, future = ahead.popleft()
                refs = future.result()
                if self.follow and folder in recent:
                    # Re-listed whole on every pass (no resume marker); hand on only new keys.
                    seen = self._seen.setdefault(folder, set())
                    refs = [ref for ref in refs if ref.key not in seen]
                    seen.update(ref.key for ref in refs)
                yield from refs

    def _is_recent(self, stream: str, day: date) -> bool:
        return day >= self._newest[stream] - timedelta(days=self.lookback_days)

    def streams(self) -> list[str]:
        """Prefixes `.../AWSLogs/[o-org/]account/CloudTrail*/region/` under the source's prefix."""
        inside = _STREAM.search(self.prefix)
        if inside:  # one stream, or a folder inside one (listed flat)
            return [self.prefix] if inside.end() == len(self.prefix) else []
        if "AWSLogs/" in self.prefix:
            return self._streams_below(self.prefix[: self.prefix.index("AWSLogs/") + len("AWSLogs/")])
        return self._find_awslogs(self.prefix, depth=3)

    def _find_awslogs(self, prefix: str, depth: int) -> list[str]:
        children = self._children(prefix)
        if prefix + "AWSLogs/" in children:
            return self._streams_below(prefix + "AWSLogs/")
        if depth == 0:
            return []
        return [s for child in children for s in self._find_awslogs(child, depth - 1)]

    def _streams_below(self, awslogs: str) -> list[str]:
        accounts: list[str] = []
        for child in self._children(awslogs):
            name = child[len(awslogs) :]
            if _ORG.match(name):
                accounts += [a for a in self._children(child) if _ACCOUNT.match(a[len(child) :])]
            elif _ACCOUNT.match(name):
                accounts.append(child)
        streams = []
        for account in accounts:
            for folder in self._children(account):
                if folder[len(account) :] in _FOLDERS:
                    streams += self._children(folder)
        return sorted(s for s in streams if s.startswith(self.prefix))

    def _days(self, stream: str, start: date | None) -> Iterator[tuple[date, str]]:
        for year in self._children(stream):
            y = _number(year, stream)
            if y is None or (start and y < start.year):
                continue
            for month in self._children(year):
                m = _number(month, year)
                if m is None or (start and (y, m) < (start.year, start.month)):
                    continue
                for day in self._children(month):
                    d = _number(day, month)
                    if d is None:
                        continue
                    try:
                        when = date(y, m, d)
                    except ValueError:
                        continue
                    if start is None or when >= start:
                        yield when, day

    def _children(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return found

    def _list(self, prefix: str) -> Iterator[ObjectRef]:
        for page in self._pages(Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                yield ObjectRef(
                    uri=f"s3://{self.bucket}/{key}",
                    key=key,
                    size=int(item.get("Size", 0)),
                    etag=str(item.get("ETag", "")).strip('"'),
                )

    def _pages(self, **kwargs: str) -> Iterable[dict[str, Any]]:
        try:
            yield from self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            code = error_code(error)
            raise SourceError(
                f"Could not list 's3://{self.bucket}/{kwargs.get('Prefix', '')}' ({code}: {error})\n"
                "Check the bucket name, s3:ListBucket permission, the region and AWS_ENDPOINT_URL."
            ) from None
        except BotoCoreError as error:
            raise TransientSourceError(
                f"Could not list 's3://{self.bucket}' ({error}); retry later"
            ) from None

    # -- downloads -----------------------------------------------------------------------------
    def _read_now(self, ref: ObjectRef) -> bytes:
        bucket, key = split_uri(ref.uri)
        return download(bucket, key, self.region)

    def _read_ahead(self, refs: Iterator[ObjectRef]) -> Iterator[ObjectRef]:
        window: deque[ObjectRef] = deque()
        upstream = iter(refs)
        exhausted = False
        while True:
            while not exhausted and len(window) < 256 and self._downloads.capacity:
                ref = next(upstream, None)
                if ref is None:
                    exhausted = True
                    break
                self._downloads.prefetch(ref)
                window.append(ref)
            if not window:
                if exhausted:
                    return
                ref = next(upstream, None)
                if ref is None:
                    return
                window.append(ref)
            ref = window.popleft()
            if not window and not exhausted:  # look one ahead: is this the pass's last object?
                following = next(upstream, None)
                exhausted = following is None
                if following is not None:
                    self._downloads.prefetch(following)
                    window.append(following)
            self._idle = exhausted and not window
            self._downloads.yielded(ref)
            yield ref


def _number(child: str, parent: str) -> int | None:
    text = child[len(parent) :].rstrip("/")
    return int(text) if text.isdigit() else None
