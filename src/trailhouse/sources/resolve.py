"""Which source a SOURCE argument names: a folder, s3://bucket[/prefix], sqs://queue or a queue URL.

When TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION is set, its file is loaded first (a bad file
stops start-up) and supplies the regions, and `sqs://` alone means its sqsUrl.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from trailhouse.errors import UsageError
from trailhouse.sources.base import Source
from trailhouse.sources.service_config import ServiceConfiguration, load_service_configuration

# Options `trailhouse ingest` may pass through, with their defaults.
OPTIONS: dict[str, Any] = {
    "max_receives": 5,  # SQS: a message received this many times without success is quarantined
    "visibility_timeout": 120,  # SQS: seconds a received message stays hidden (extended while held)
    "wait_seconds": 5,  # SQS --follow: long-poll wait; also the longest a SIGTERM waits for a poll
    "flush_seconds": 3.0,  # SQS: commit objects held longer than this even if more keep coming
    "poll_seconds": 60.0,  # S3 listing --follow: seconds between listing passes
    "lookback_days": 2,  # S3 listing --follow: recent day folders re-listed on every pass
    "download_workers": 8,  # parallel downloads
    "read_ahead_mb": 64,  # downloaded bytes held ahead of the parser, at most
}


def is_queue(spec: str) -> bool:
    return spec.startswith("sqs://") or (spec.startswith(("https://", "http://")) and "/" in spec[8:])


def open_source(
    spec: str, *, since: date | None = None, follow: bool = False, options: Mapping[str, Any] | None = None
) -> Source:
    """The source `spec` names, opened (queues are checked to exist)."""
    given = dict(options or {})
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise UsageError(f"Unknown source option {', '.join(repr(u) for u in unknown)}")
    opts = {**OPTIONS, **{k: v for k, v in given.items() if v is not None}}
    service = load_service_configuration()
    if is_queue(spec) or spec.startswith("s3://"):
        log_to_stderr()
    if is_queue(spec):
        return _open_queue(spec, since=since, follow=follow, opts=opts, service=service)
    if spec.startswith("s3://"):
        from trailhouse.sources.s3 import S3Source

        return S3Source(
            spec,
            since=since,
            follow=follow,
            lookback_days=int(opts["lookback_days"]),
            poll_seconds=float(opts["poll_seconds"]),
            download_workers=int(opts["download_workers"]),
            read_ahead_mb=int(opts["read_ahead_mb"]),
            region=service.s3_region if service else None,
        )
    if "://" in spec:
        raise UsageError(
            f"Unknown source '{spec}'\nPass a folder, s3://bucket[/prefix], sqs://queue-name or a queue URL."
        )
    if follow:
        raise UsageError("--follow applies to sqs:// and s3:// sources only\nDrop --follow for a folder.")
    from trailhouse.sources.local import LocalSource

    return LocalSource(Path(spec))


def _open_queue(
    spec: str, *, since: date | None, follow: bool, opts: dict[str, Any], service: ServiceConfiguration | None
) -> Source:
    from trailhouse.sources.sqs import SqsSource

    if since is not None:
        raise UsageError("--since applies to s3:// listings only\nDrop --since for a queue.")
    queue = spec
    if spec.rstrip("/") == "sqs:":
        if service is None:
            raise UsageError(
                "'sqs://' without a queue name needs TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION\n"
                "Pass sqs://queue-name or a queue URL."
            )
        queue = service.sqs_url
    return SqsSource(
        queue,
        follow=follow,
        max_receives=int(opts["max_receives"]),
        visibility_timeout=int(opts["visibility_timeout"]),
        wait_seconds=int(opts["wait_seconds"]),
        flush_seconds=float(opts["flush_seconds"]),
        region=service.sqs_region if service else None,
        s3_region=service.s3_region if service else None,
        download_workers=int(opts["download_workers"]),
        read_ahead_mb=int(opts["read_ahead_mb"]),
    )


def log_to_stderr() -> None:
    """Progress lines ("Polled N sqs messages from ...", "Compacted ...") on stderr, unless logging
    is configured."""
    if logging.getLogger().handlers:
        return
    for name in ("trailhouse.sources", "trailhouse.lifecycle"):
        logger = logging.getLogger(name)
        if logger.handlers:
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
