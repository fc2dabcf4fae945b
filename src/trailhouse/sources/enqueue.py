"""`ingest s3://... --enqueue sqs://...`: list a bucket and send its objects to a queue as S3 events.

A large backfill is then shared by every `trailhouse ingest sqs://...` worker on the queue. The
messages are ordinary S3 event notifications (ten objects each), so the workers need nothing new;
objects already in the lake are dropped by the workers' ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from urllib.parse import quote_plus

from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import SourceError, UsageError
from trailhouse.model.keys import classify_key
from trailhouse.sources.base import ObjectRef
from trailhouse.sources.s3 import S3Source, client, error_code, split_uri
from trailhouse.sources.sqs import resolve_queue

OBJECTS_PER_MESSAGE = 10


def s3_event(refs: Sequence[ObjectRef]) -> str:
    """An S3 'ObjectCreated:Put' notification naming `refs` (keys URL-encoded, as S3 does)."""
    records = []
    for ref in refs:
        bucket, key = split_uri(ref.uri)
        records.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": ref.size or 0, "eTag": ref.etag},
                },
            }
        )
    return json.dumps({"Records": records}, separators=(",", ":"))


def enqueue_objects(specs: Sequence[str], queue: str, *, since: date | None = None) -> int:
    """Send every CloudTrail object under the s3:// `specs` to `queue`; the number of objects sent."""
    bad = [spec for spec in specs if not spec.startswith("s3://")]
    if bad:
        raise UsageError(f"--enqueue lists s3:// sources only, not '{bad[0]}'\nPass s3://bucket[/prefix].")
    url, region = resolve_queue(queue)
    sqs = client("sqs", region)
    sent = 0
    for spec in specs:
        source = S3Source(spec, since=since)
        try:
            wanted = (ref for ref in source.listing() if classify_key(ref.key, ref.size).kind != "skip")
            for entries in _batches(_chunks(wanted, OBJECTS_PER_MESSAGE), 10):
                _send(sqs, url, [s3_event(chunk) for chunk in entries])
                sent += sum(len(chunk) for chunk in entries)
        finally:
            source.close()
    return sent


def _chunks(refs: Iterable[ObjectRef], size: int) -> Iterator[list[ObjectRef]]:
    chunk: list[ObjectRef] = []
    for ref in refs:
        chunk.append(ref)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batches(chunks: Iterable[list[ObjectRef]], size: int) -> Iterator[list[list[ObjectRef]]]:
    batch: list[list[ObjectRef]] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _send(sqs: object, url: str, bodies: list[str]) -> None:
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    for _ in range(5):
        try:
            response = sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[attr-defined]
        except (ClientError, BotoCoreError) as error:
            raise SourceError(
                f"Cannot send to SQS queue '{url}' ({error_code(error)}: {error})\n"
                "Check sqs:SendMessage permission and the queue's region."
            ) from None
        failed = {f["Id"] for f in response.get("Failed", [])}
        entries = [e for e in entries if e["Id"] in failed]
        if not entries:
            return
    raise SourceError(f"SQS queue '{url}' refused {len(entries)} messages after 5 attempts\nRun again later.")
